// Bearer tokens for the customer API, read from a file (one token per line; blank lines
// and lines starting with # are ignored), so keys rotate by editing the file and sending
// SIGHUP. Only SHA-256 digests are kept: a presented token is hashed and compared with
// every digest in constant time, so neither which token matched nor how many leading
// bytes were right shows in the answer's timing. Tokens appear in logs only as
// fingerprints (the first 8 hex digits of the digest).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** Shorter tokens can be guessed; 16 characters of a random base64 string are 96 bits. */
export const MIN_TOKEN_LENGTH = 16;
/** A token with fewer different characters is a placeholder (aaaa..., 1234...), not a secret. */
export const MIN_DISTINCT_CHARACTERS = 8;
/** A token file is a few lines; anything larger is the wrong file (and is not read into memory). */
export const MAX_FILE_BYTES = 1024 * 1024;

export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export function fingerprint(token: string): string {
  return `sha256:${digest(token).toString('hex').slice(0, 8)}`;
}

/** The tokens of a file's text; throws TokenFileError naming the line that is wrong. */
export function parseTokens(text: string, path: string): string[] {
  const tokens: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/\s/.test(line))
      throw new TokenFileError(`${path}:${index + 1}: a token is one word (no spaces); one token per line`);
    if (!/^[\x21-\x7e]+$/.test(line))
      throw new TokenFileError(`${path}:${index + 1}: a token is printable ASCII (as an HTTP header carries it)`);
    if (line.length < MIN_TOKEN_LENGTH)
      throw new TokenFileError(`${path}:${index + 1}: a token needs at least ${MIN_TOKEN_LENGTH} characters`);
    if (new Set(line).size < MIN_DISTINCT_CHARACTERS)
      throw new TokenFileError(
        `${path}:${index + 1}: a token needs at least ${MIN_DISTINCT_CHARACTERS} different characters (use a random one, e.g. openssl rand -base64 24)`,
      );
    tokens.push(line);
  }
  if (tokens.length === 0) throw new TokenFileError(`${path}: no token in the file (one token per line)`);
  return tokens;
}

export class TokenFile {
  private digests: Buffer[] = [];
  private prints: string[] = [];

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.reload();
  }

  /** Re-reads the file; on any error the tokens in use stay as they were. */
  reload(): readonly string[] {
    let text: string;
    try {
      // Checked before opening: a FIFO would block the whole process in open(), a device
      // or a huge file would be read without end.
      const stat = statSync(this.path);
      if (!stat.isFile()) throw new TokenFileError(`${this.path}: not a regular file`);
      if (stat.size > MAX_FILE_BYTES)
        throw new TokenFileError(`${this.path}: ${stat.size} bytes; a token file is at most ${MAX_FILE_BYTES} bytes`);
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if (error instanceof TokenFileError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new TokenFileError(`${this.path}: cannot read the token file (${code})`);
    }
    const tokens = parseTokens(text, this.path);
    this.digests = tokens.map(digest);
    this.prints = tokens.map(fingerprint);
    return this.prints;
  }

  get fingerprints(): readonly string[] {
    return this.prints;
  }

  /** True when `presented` is one of the tokens; the time taken does not depend on which. */
  accepts(presented: string): boolean {
    const candidate = digest(presented);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  }
}
