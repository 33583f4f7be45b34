/** CLI exit codes (documented in README and `tsipsec --help`). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1, // the command ran and failed (tunnel did not come up, demo check failed, decode error)
  USAGE: 2, // bad arguments or a bad config file
  NOT_RUNNING: 3, // status/initiate/terminate/down: no daemon on the control socket
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The line every command's --help ends with. */
export const EXIT_CODES_HELP = 'Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 daemon not running. --debug prints stack traces.';

/** An error meant for the user: printed without a stack trace (unless --debug). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = ExitCode.FAILURE) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}
