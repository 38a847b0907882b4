/**
 * The replication role and epoch of this server, persisted in `<data_dir>/replication/state.json` (never in
 * the database, which a standby overwrites with the primary's). The epoch only grows: a promotion sets it one
 * above every epoch the standby has seen, so a returning old primary that meets the new one learns that it
 * has been replaced and fences itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigoError, writePrivateFile } from '../core/index.ts';

export const roles = ['primary', 'standby', 'fenced'] as const;
export type Role = (typeof roles)[number];

export interface ReplicationState {
  readonly role: Role;
  /** Grows by one at every promotion; peers compare it to decide who is primary. */
  readonly epoch: number;
  /** The peer this server follows or was replaced by (standby, fenced); '' when unknown. */
  readonly primary: string;
  /** When the state last changed (ms since the epoch) and why. */
  readonly changedAtMs: number;
  readonly reason: string;
}

const maxStateBytes = 4096;

export function replicationDir(dataDir: string): string {
  return join(dataDir, 'replication');
}

export function stateFile(dataDir: string): string {
  return join(replicationDir(dataDir), 'state.json');
}

function invalid(file: string, problem: string): VigoError {
  return new VigoError(
    'replication.protocol',
    `${file}: ${problem}; fix or remove it (removing it makes the server take its configured replication.role)`,
  );
}

/** The persisted state, or undefined when the server has never recorded one. */
export function readState(dataDir: string): ReplicationState | undefined {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file);
  if (text.length > maxStateBytes) throw invalid(file, `larger than ${maxStateBytes} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString('utf8'));
  } catch {
    throw invalid(file, 'not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw invalid(file, 'not an object');
  const r = raw as Record<string, unknown>;
  if (!roles.includes(r['role'] as Role)) throw invalid(file, `role must be one of ${roles.join(', ')}`);
  const epoch = r['epoch'];
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0)
    throw invalid(file, 'epoch must be a non-negative integer');
  return {
    role: r['role'] as Role,
    epoch,
    primary: typeof r['primary'] === 'string' ? r['primary'] : '',
    changedAtMs: typeof r['changedAtMs'] === 'number' ? r['changedAtMs'] : 0,
    reason: typeof r['reason'] === 'string' ? r['reason'] : '',
  };
}

export function writeState(dataDir: string, state: ReplicationState): void {
  writePrivateFile(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** The state to start with: the persisted one, else the configured role at epoch 1 (primary) or 0 (standby). */
export function initialState(dataDir: string, configuredRole: 'primary' | 'standby'): ReplicationState {
  const persisted = readState(dataDir);
  if (persisted !== undefined) return persisted;
  const state: ReplicationState = {
    role: configuredRole,
    epoch: configuredRole === 'primary' ? 1 : 0,
    primary: '',
    changedAtMs: Date.now(),
    reason: 'configured',
  };
  writeState(dataDir, state);
  return state;
}
