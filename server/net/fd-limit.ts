/**
 * The open-file limit. Every agent connection (held mode keeps one per agent), every HTTPS client and
 * the database use a file descriptor. Node raises its soft limit to the hard limit by itself when it
 * starts, so the hard limit the supervisor grants (systemd LimitNOFILE, `ulimit -Hn`, a container's
 * nofile) is what the server gets; vigosrv logs it at start and warns when the fleet it serves needs more.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/index.ts';

export interface OpenFileLimits {
  readonly soft: number;
  readonly hard: number;
}

/** Parses the "Max open files" line of /proc/<pid>/limits; Infinity for "unlimited". */
export function parseOpenFileLimits(limitsText: string): OpenFileLimits | undefined {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (match === null) return undefined;
  const value = (text: string | undefined): number => (text === 'unlimited' ? Infinity : Number(text));
  const soft = value(match[1]);
  const hard = value(match[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/** This process's limits, where the platform tells (Linux); undefined elsewhere. */
export function openFileLimits(): OpenFileLimits | undefined {
  try {
    return parseOpenFileLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Descriptors a fleet of `envoys` needs: one per held agent connection, twice over, and room for the rest. */
export function descriptorsNeeded(envoys: number): number {
  return 2 * envoys + 4096;
}

/** Descriptors the server needs besides agent connections at the least: database, logs, HTTPS, workers. */
export const descriptorsBesidesAgents = 1024;

/**
 * The agent connections one process must be able to hold: the whole fleet when the server terminates
 * them itself (checkin.workers = 1); with N check-in processes a share that still fits when one of them
 * has ended and its agents reconnected to the others (the fleet over N - 1; all of it with two).
 */
export function heldConnectionsPerProcess(envoys: number, checkinProcesses: number): number {
  return checkinProcesses <= 2 ? envoys : Math.ceil(envoys / (checkinProcesses - 1));
}

/**
 * Why a server holding agent connections (checkin.connection: held) must not start with `limits`, or
 * undefined when it may. It must not when the fleet cannot possibly connect: even with every descriptor
 * beyond `descriptorsBesidesAgents` spent on agents, some of the `envoys` would find no descriptor and be
 * refused over and over (a limit that is merely short of `descriptorsNeeded` only gets a warning). Every
 * check-in process has the same limit, so with several the test is against each one's share.
 */
export function heldFleetLimitProblem(
  limits: OpenFileLimits | undefined,
  envoys: number,
  checkinProcesses = 1,
): string | undefined {
  if (limits === undefined) return undefined;
  const held = heldConnectionsPerProcess(envoys, checkinProcesses);
  const required = held + descriptorsBesidesAgents;
  if (limits.soft >= required) return undefined;
  const share =
    held === envoys
      ? ''
      : `, ${held} of them on each of its ${checkinProcesses} check-in processes while one restarts`;
  return (
    `${envoys} envoys are enrolled and checkin.connection is "held" (each agent keeps a connection open${share}), ` +
    `but this process may open only ${limits.soft} files (hard limit ${limits.hard}), fewer than the ` +
    `${required} the fleet cannot do without. Raise the hard open-file limit to at least ` +
    `${descriptorsNeeded(held)} (systemd: LimitNOFILE= in the unit, see deploy/vigosrv.service; a ` +
    `container: its nofile ulimit; a shell: ulimit -Hn), or set checkin.connection: poll ` +
    `(VIGO_CHECKIN_CONNECTION=poll), where agents connect only to check in.`
  );
}

/**
 * Logs `limits` (this process's by default), and warns when they are short of what a fleet of `envoys`
 * needs of each process.
 */
export function logOpenFileLimits(
  log: Logger,
  envoys: number,
  limits: OpenFileLimits | undefined = openFileLimits(),
  checkinProcesses = 1,
): void {
  if (limits === undefined) return;
  const needed = descriptorsNeeded(heldConnectionsPerProcess(envoys, checkinProcesses));
  const fields = { soft: limits.soft, hard: limits.hard, envoys, checkinProcesses, recommended: needed };
  if (limits.soft >= needed) {
    log.info('open-file limit', fields);
    return;
  }
  log.warn(
    'the open-file limit is low for this fleet: each connected agent holds a file descriptor; raise the ' +
      'hard limit (systemd LimitNOFILE, see deploy/vigosrv.service)',
    fields,
  );
}
