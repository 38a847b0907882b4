/**
 * The options for where data lives and how it is kept: the database (busy timeout, retention, pruning),
 * scheduled backups, and replication to standby peers. Part of the one option table (registry.ts).
 */
import { formatDurationMs } from '../core/index.ts';
import { parsePeers, peerNamePattern } from '../replication/config.ts';
import type { PeerConfig } from '../replication/config.ts';
import {
  choiceOption,
  durationOption,
  integerOption,
  listenOption,
  pathOption,
  structuredOption,
  textOption,
} from './options.ts';
import type { ConfigOption } from './options.ts';
import { durationExpected, fail, parseDuration } from './values.ts';

/** An interval of at least a second, or "off" (typed 0). */
function intervalOrOffOption(base: { doc: string; env: string }): ConfigOption<number> {
  return {
    type: 'duration or off',
    doc: base.doc,
    env: base.env,
    flag: undefined,
    reloadable: true,
    defaultText: '"off"',
    defaultValue: () => 0,
    parse: (raw) => {
      if (raw === 'off') return 0;
      try {
        return parseDuration(raw, 1000);
      } catch {
        return fail(`${durationExpected} of at least 1s, or "off"`, raw);
      }
    },
    format: (value) => (value === 0 ? '"off"' : JSON.stringify(formatDurationMs(value))),
  };
}

/** An age X25519 recipient (bech32, "age1" and 58 characters). */
const ageRecipientPattern = /^age1[02-9ac-hj-np-z]{58}$/;

export const dataOptions = {
  'database.busy_timeout': durationOption({
    doc: 'How long a database statement waits for a lock held elsewhere before failing; "0" fails at once.',
    env: 'VIGO_DATABASE_BUSY_TIMEOUT',
    default: '5s',
    allowZero: true,
  }),
  'database.retention.runs': durationOption({
    doc: "Agent runs and their results older than this are deleted (each envoy's latest run is kept); 0 keeps them.",
    env: 'VIGO_DATABASE_RETENTION_RUNS',
    default: '30d',
    allowZero: true,
    reloadable: true,
  }),
  'database.retention.tasks': durationOption({
    doc: "Finished task runs (with each target's output) older than this are deleted; 0 keeps them.",
    env: 'VIGO_DATABASE_RETENTION_TASKS',
    default: '90d',
    allowZero: true,
    reloadable: true,
  }),
  'database.retention.workflows': durationOption({
    doc: 'Finished workflow runs and their steps older than this are deleted; 0 keeps them.',
    env: 'VIGO_DATABASE_RETENTION_WORKFLOWS',
    default: '90d',
    allowZero: true,
    reloadable: true,
  }),
  'database.retention.convergence_history': durationOption({
    doc: 'Convergence state changes older than this are deleted (the current state is kept); 0 keeps them.',
    env: 'VIGO_DATABASE_RETENTION_CONVERGENCE_HISTORY',
    default: '90d',
    allowZero: true,
    reloadable: true,
  }),
  'database.retention.deliveries': durationOption({
    doc: 'Event-sink deliveries that were delivered or gave up longer ago than this are deleted; 0 keeps them.',
    env: 'VIGO_DATABASE_RETENTION_DELIVERIES',
    default: '7d',
    allowZero: true,
    reloadable: true,
  }),
  'database.prune_interval': durationOption({
    doc: 'How often history past database.retention.* is deleted (the first time a minute after start). The audit log is never pruned.',
    env: 'VIGO_DATABASE_PRUNE_INTERVAL',
    default: '24h',
    reloadable: true,
  }),
  'backup.schedule': intervalOrOffOption({
    doc: 'How often the server writes a backup into backup.dir (docs/operations.md, "Backup and restore"); "off" writes none.',
    env: 'VIGO_BACKUP_SCHEDULE',
  }),
  'backup.dir': pathOption({
    doc: 'Directory scheduled backups are written to (0700; each backup 0600); keep a copy off this host.',
    env: 'VIGO_BACKUP_DIR',
    defaultText: '"" (<data_dir>/backups)',
    defaultValue: () => '',
    emptyMeans: '<data_dir>/backups',
    reloadable: true,
  }),
  'backup.keep': integerOption({
    doc: 'Scheduled backups kept in backup.dir; the oldest beyond this are deleted after each new one.',
    env: 'VIGO_BACKUP_KEEP',
    default: 7,
    min: 1,
    max: 10_000,
    reloadable: true,
  }),
  'backup.recipient': textOption({
    doc: 'age X25519 recipient (age1…) scheduled backups are encrypted to; "" writes them unencrypted, holding the CA key and secrets in the clear.',
    env: 'VIGO_BACKUP_RECIPIENT',
    expected: 'an age X25519 recipient (age1…), or ""',
    accepts: (text) => text === '' || ageRecipientPattern.test(text),
    defaultText: '""',
    defaultValue: () => '',
    reloadable: true,
  }),
  'replication.role': choiceOption({
    doc: 'The role this server takes the first time it starts with peers; afterwards the role recorded in <data_dir>/replication/state.json (promotion, fencing) wins.',
    env: 'VIGO_REPLICATION_ROLE',
    values: ['primary', 'standby'] as const,
    default: 'primary',
  }),
  'replication.name': textOption({
    doc: "This server's name among its peers (what their peers: entries call it).",
    env: 'VIGO_REPLICATION_NAME',
    expected: 'a peer name: lower-case letters, digits, ".", "_" or "-"',
    accepts: (text) => peerNamePattern.test(text),
    defaultText: '"vigo"',
    defaultValue: () => 'vigo',
  }),
  'replication.listen': listenOption({
    doc: 'mTLS listener for peers (database and file shipping, epoch checks); opened only when peers: is not empty.',
    env: 'VIGO_REPLICATION_LISTEN',
    default: ':1531',
  }),
  'replication.interval': durationOption({
    doc: 'How often the primary ships what changed to each standby: the bound on replication lag, plus the time a batch takes.',
    env: 'VIGO_REPLICATION_INTERVAL',
    default: '1s',
  }),
  'replication.timeout': durationOption({
    doc: 'A peer link silent for this long (no batch, no acknowledgement) is closed and dialled again.',
    env: 'VIGO_REPLICATION_TIMEOUT',
    default: '30s',
  }),
  peers: structuredOption<readonly PeerConfig[]>({
    doc: 'The other servers of a primary/standby pair: a list of {name, address, agent_address, fingerprint}; docs/operations.md ("Standby and failover").',
    env: 'VIGO_PEERS',
    expected: 'a list of peers',
    defaultRaw: [],
    read: (raw) => {
      const { value, problems } = parsePeers(raw);
      return { value, problems: problems.map((p) => `peers${p.startsWith('[') ? '' : ': '}${p}`) };
    },
  }),
} as const satisfies Record<string, ConfigOption<unknown>>;
