import type { ExitCodeName } from '../core/index.ts';

/** A failure during start-up that ends the process with a documented exit code. */
export class StartupError extends Error {
  constructor(
    readonly exitCode: ExitCodeName,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}
