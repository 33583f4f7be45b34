/** Shared by status/initiate/terminate/down: send one control request, map "not running" to exit code 3. */
import { controlRequest, DEFAULT_SOCKET, type ControlRequest } from '../../runtime/control.js';
import { CliError, ExitCode } from '../errors.js';

export async function ask(socket: string | undefined, req: ControlRequest, timeoutMs = 30_000): Promise<unknown> {
  try {
    return await controlRequest(socket ?? DEFAULT_SOCKET, req, timeoutMs);
  } catch (e) {
    const msg = (e as Error).message;
    throw new CliError(msg, /not running/.test(msg) ? ExitCode.NOT_RUNNING : ExitCode.FAILURE);
  }
}
