// The token file: which lines are tokens, which are refused (and how the error names the
// line), that only the tokens of the file are accepted (generated tokens and near misses),
// that a failed reload keeps the tokens in use, and that fingerprints do not reveal tokens.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  MAX_FILE_BYTES,
  MIN_DISTINCT_CHARACTERS,
  MIN_TOKEN_LENGTH,
  parseTokens,
  TokenFile,
  TokenFileError,
} from '../../../../src/adapters/http/token-file.js';

const tokenArb = fc
  .string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/='),
    minLength: MIN_TOKEN_LENGTH,
    maxLength: 80,
  })
  .filter((t) => !t.startsWith('#') && new Set(t).size >= MIN_DISTINCT_CHARACTERS);

function fileWith(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tokens-')), 'tokens');
  writeFileSync(path, text);
  return path;
}

describe('parseTokens', () => {
  it('keeps one token per line, skipping blank lines, comments and surrounding spaces (CRLF too)', () => {
    const text = '# keys of the CRM\n\n  q7Rk2mXw9pLs4vTb1  \r\nZ3nH8cVd6fJg0yUe2\r\n# old: cccc\n';
    expect(parseTokens(text, 'f')).toEqual(['q7Rk2mXw9pLs4vTb1', 'Z3nH8cVd6fJg0yUe2']);
  });

  it.each([
    ['', 'f: no token in the file'],
    ['# only a comment\n\n', 'f: no token in the file'],
    ['short\n', `f:1: a token needs at least ${MIN_TOKEN_LENGTH} characters`],
    ['q7Rk2mXw9pLs4vTb1\ntwo words here-0123456789\n', 'f:2: a token is one word'],
    ['q7Rk2mXw9pLs4vTb1\n\nZ3nH8cVd6fJg0yUeé\n', 'f:3: a token is printable ASCII'],
  ])('refuses %j naming the line', (text, message) => {
    expect(() => parseTokens(text, 'f')).toThrow(TokenFileError);
    expect(() => parseTokens(text, 'f')).toThrow(message);
  });
});

describe('TokenFile', () => {
  it('accepts exactly the tokens of the file: every one of them, none of their near misses (generated)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 5 }), tokenArb, (tokens, other) => {
        const path = fileWith(`${tokens.join('\n')}\n`);
        try {
          const file = new TokenFile(path);
          for (const token of tokens) {
            expect(file.accepts(token)).toBe(true);
            expect(file.accepts(token.slice(0, -1))).toBe(false);
            expect(file.accepts(`${token}x`)).toBe(false);
            expect(file.accepts(` ${token}`)).toBe(false);
          }
          expect(file.accepts(other)).toBe(tokens.includes(other));
          expect(file.accepts('')).toBe(false);
        } finally {
          rmSync(path);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('fingerprints are 8 hex digits of the SHA-256 and never contain the token', () => {
    fc.assert(
      fc.property(tokenArb, (token) => {
        const print = fingerprint(token);
        expect(print).toMatch(/^sha256:[0-9a-f]{8}$/);
        expect(print).not.toContain(token);
      }),
    );
  });

  it('reload picks up a rotated file; a broken or missing file keeps the tokens in use', () => {
    const oldToken = 'old-token-0123456789abcdef';
    const newToken = 'new-token-0123456789abcdef';
    const path = fileWith(`${oldToken}\n`);
    const file = new TokenFile(path);
    expect(file.fingerprints).toEqual([fingerprint(oldToken)]);
    writeFileSync(path, `${newToken}\n`);
    expect(file.reload()).toEqual([fingerprint(newToken)]);
    expect(file.accepts(newToken)).toBe(true);
    expect(file.accepts(oldToken)).toBe(false);
    writeFileSync(path, 'short\n');
    expect(() => file.reload()).toThrow(`${path}:1`);
    expect(file.accepts(newToken)).toBe(true);
    rmSync(path);
    expect(() => file.reload()).toThrow(`${path}: cannot read the token file (ENOENT)`);
    expect(file.accepts(newToken)).toBe(true);
  });

  it('refuses placeholder tokens (too few different characters)', () => {
    expect(() => parseTokens('aaaaaaaaaaaaaaaa\n', 'f')).toThrow('f:1: a token needs at least 8 different characters');
    expect(() => parseTokens('1212121212121212121\n', 'f')).toThrow(TokenFileError);
  });

  it('refuses a FIFO, a directory and an oversized file without reading them (a FIFO would block the process)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => new TokenFile(fifo)).toThrow(`${fifo}: not a regular file`);
    expect(() => new TokenFile(dir)).toThrow(`${dir}: not a regular file`);
    const big = join(dir, 'big');
    writeFileSync(big, `q7Rk2mXw9pLs4vTb1\n${'#'.repeat(MAX_FILE_BYTES)}\n`);
    expect(() => new TokenFile(big)).toThrow(`a token file is at most ${MAX_FILE_BYTES} bytes`);
  });

  it('a missing file is refused at construction, naming the path', () => {
    expect(() => new TokenFile('/nonexistent/tokens')).toThrow(
      '/nonexistent/tokens: cannot read the token file (ENOENT)',
    );
  });
});
