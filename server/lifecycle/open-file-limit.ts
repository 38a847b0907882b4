/** The open-file limit against the enrolled fleet, at start-up (docs/exit-codes.md, "Open files and the fleet"). */
import type { LoadedConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import { heldFleetLimitProblem, logOpenFileLimits, openFileLimits } from '../net/index.ts';
import { checkinWorkers } from './agent-port.ts';
import { StartupError } from './startup-error.ts';

/**
 * Logs the open-file limit and, in held mode, refuses to start when it cannot hold the enrolled fleet's
 * connections. Poll mode only warns: agents then hold a connection for a check-in, not all the time.
 */
export function checkOpenFileLimit(config: LoadedConfig['config'], fleet: FleetIndex, log: Logger): void {
  const limits = openFileLimits();
  const envoys = fleet.activeCount();
  const processes = checkinWorkers(config['checkin.workers']);
  logOpenFileLimits(log, envoys, limits, processes);
  if (config['checkin.connection'] !== 'held') return;
  const problem = heldFleetLimitProblem(limits, envoys, processes);
  if (problem !== undefined) throw new StartupError('openFileLimit', problem);
}
