/**
 * For the live-query and force-push tests: a temp store with enrolled envoys mirrored in a FleetIndex, and
 * a stream link that records what the server sends and lets a test play the agents' side (streams opening
 * and closing, QueryResults arriving) the way server/checkin's AgentStreams reports them.
 */
import { create } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { QueryResultSchema } from '../../protocol/index.ts';
import type { AgentStreamResponse, QueryResult } from '../../protocol/index.ts';
import { silentLogger } from '../core/index.ts';
import { EnvoyEntry, FleetIndex, createFleetAdmin } from '../fleet/index.ts';
import type { FleetAdmin } from '../fleet/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import type { StreamLink } from './live-query.ts';

export interface Host {
  readonly hostname: string;
  readonly traits?: Record<string, unknown>;
}

export interface FleetFixture {
  readonly store: Store;
  readonly fleet: FleetIndex;
  readonly admin: FleetAdmin;
  readonly registry: Registry;
  readonly traitsByHash: (hash: string) => unknown;
  readonly entry: (hostname: string) => EnvoyEntry;
  cleanup(): void;
}

/** Enrolls `hosts` (rows and index entries); each host's traits are stored under their own hash. */
export function fleetFixture(hosts: readonly Host[]): FleetFixture {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-orch-'));
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  const fleet = new FleetIndex();
  const traits = new Map<string, unknown>();
  const insert = store.db.prepare(
    `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at)
     VALUES (?, ?, ?, ?, 'active', ?)`,
  );
  for (const host of hosts) {
    const id = randomUUID();
    const hash = host.traits === undefined ? '' : `traits-${host.hostname}`;
    if (host.traits !== undefined) traits.set(hash, host.traits);
    insert.run(id, host.hostname, Buffer.alloc(32, 7), 'ab'.repeat(32), Date.now());
    fleet.put(
      new EnvoyEntry({
        id,
        hostname: host.hostname,
        public_key: Buffer.alloc(32, 7),
        cert_fingerprint: 'ab'.repeat(32),
        status: 'active',
        enrolled_at: Date.now(),
        last_seen_at: null,
        last_ts_ms: 0,
        policy_version: 0,
        state_fingerprint: null,
        traits_hash: hash,
        interval_ms: null,
        force_push: 0,
        agent_version: null,
      }),
    );
  }
  return {
    store,
    fleet,
    admin: createFleetAdmin({ store, index: fleet }),
    registry: new Registry(),
    traitsByHash: (hash) => traits.get(hash),
    entry: (hostname) => {
      const found = [...fleet.values()].find((e) => e.hostname === hostname);
      if (found === undefined) throw new Error(`no host ${hostname} in the fixture`);
      return found;
    },
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Work = Parameters<StreamLink['attach']>[0];

/** Open streams by envoy id; everything sent to them; the handlers attached. */
export class RecordingStreams implements StreamLink {
  readonly open = new Set<string>();
  readonly sent: { envoyId: string; message: AgentStreamResponse }[] = [];
  readonly #work: Work[] = [];

  send(envoyId: string, message: AgentStreamResponse): boolean {
    if (!this.open.has(envoyId)) return false;
    this.sent.push({ envoyId, message });
    return true;
  }

  isOpen(envoyId: string): boolean {
    return this.open.has(envoyId);
  }

  attach(work: Work): () => void {
    this.#work.push(work);
    return () => this.#work.splice(this.#work.indexOf(work), 1);
  }

  /** The envoy's stream said Hello (as AgentStreams marks the entry, then tells the handlers). */
  opened(entry: EnvoyEntry): void {
    this.open.add(entry.id);
    entry.streamOpen = true;
    entry.streamRequested = false;
    for (const work of this.#work) work.opened?.(entry);
  }

  closed(entry: EnvoyEntry): void {
    this.open.delete(entry.id);
    entry.streamOpen = false;
    for (const work of this.#work) work.closed?.(entry);
  }

  /** The LiveQuery last sent to `entry`, if any. */
  liveQueryTo(entry: EnvoyEntry): { queryId: string; traitPath: string } | undefined {
    for (const { envoyId, message } of [...this.sent].reverse()) {
      if (envoyId === entry.id && message.kind.case === 'liveQuery') return message.kind.value;
    }
    return undefined;
  }

  /** The agent of `entry` answers its last LiveQuery with `value` (JSON text) or an error. */
  answer(entry: EnvoyEntry, answer: { json: string } | { error: string }, queryId?: string): void {
    const id = queryId ?? this.liveQueryTo(entry)?.queryId;
    if (id === undefined) throw new Error(`${entry.hostname} was sent no LiveQuery`);
    const result: QueryResult = create(QueryResultSchema, {
      queryId: id,
      ...('json' in answer ? { valueJson: Buffer.from(answer.json) } : { error: answer.error }),
    });
    for (const work of this.#work) work.queryResult?.(entry, result);
  }
}
