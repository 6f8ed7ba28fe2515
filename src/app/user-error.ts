// The one way the app says "the person running churnstream got something wrong" (an
// option, a setting, a file): the CLI prints the message alone, with no stack trace, and
// exits 2. Anything else is a bug or an outage and keeps its stack trace (exit 1).

export class UserError extends Error {
  override readonly name: string = 'UserError';
}

/** Exit code of a refused start or a bad command line. */
export const USER_ERROR_EXIT_CODE = 2;
