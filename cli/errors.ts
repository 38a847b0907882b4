/**
 * vigocli's exit codes (documented in docs/vigocli.md; scripts rely on them) and the one error type
 * every command failure becomes.
 */

export const cliExitCodes = {
  ok: 0,
  /** The server refused the request or answered with an error; any other failure. */
  error: 1,
  /** The command line is wrong: unknown command or flag, missing or malformed value. */
  usage: 2,
  /** The server cannot be reached, or TLS failed (wrong CA, wrong name). */
  unreachable: 3,
  /** No usable credential, or the server answered 401/403. */
  auth: 4,
} as const;

/** What each exit code means, for `vigocli help exit-codes` and the help footer. */
export const cliExitCodeDocs: Readonly<Record<keyof typeof cliExitCodes, string>> = {
  ok: 'success (also when a reader such as `head` closes the output early)',
  error: 'the server refused the request (its code, message and request id are printed), or another failure',
  usage: 'usage error: unknown command or flag, missing or malformed value, unknown context',
  unreachable: 'cannot reach the server, or TLS failed (wrong CA, wrong name)',
  auth: 'authentication failed: no credential, a refused token or contexts file, or the server answered 401/403',
};

export type CliExitCode = (typeof cliExitCodes)[keyof typeof cliExitCodes];

export class CliError extends Error {
  readonly exitCode: CliExitCode;
  /** A stable code: the server's error code, or one of the `cli.*` codes for local failures. */
  readonly code: string;
  readonly requestId: string | undefined;
  /** Stacks diagnostics the server returned with the error, if any. */
  diagnostics: unknown[] | undefined;

  constructor(
    exitCode: CliExitCode,
    code: string,
    message: string,
    requestId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
    this.requestId = requestId;
  }
}

export function usageError(message: string): CliError {
  return new CliError(cliExitCodes.usage, 'cli.usage', message);
}
