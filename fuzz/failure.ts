/** What a fuzz target is, and the error it throws on an invariant violation (the runner saves the input). */
/** An invariant violation. `run` throws this; the runner saves the input. */
export class FuzzFailure extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(`${target}: ${message}`);
    this.name = 'FuzzFailure';
  }
}

export interface FuzzTarget {
  readonly name: string;
  /** One line for the README / --list. */
  readonly description: string;
  seeds(): Uint8Array[];
  /** Must not throw except FuzzFailure on an invariant violation. */
  run(input: Uint8Array): void;
}

