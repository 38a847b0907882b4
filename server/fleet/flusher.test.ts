import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { storeWithEnvoy } from '../checkin/test-fixtures.ts';
import { createLogger, silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import type { EnvoyEntry } from './envoy-entry.ts';
import { FleetIndex } from './fleet-index.ts';
import { createFleetFlusher } from './flusher.ts';
import type { FleetFlusher } from './flusher.ts';

const fixture = storeWithEnvoy();
after(() => fixture.cleanup());

function snapshot(index: FleetIndex): unknown[] {
  return [...index.values()].map((e) => ({
    id: e.id,
    hostname: e.hostname,
    lastSeenAtMs: e.lastSeenAtMs,
    lastTsMs: e.lastTsMs,
    policyVersion: e.policyVersion,
    stateFingerprint: e.stateFingerprint,
    traitsHash: e.traitsHash,
    intervalMs: e.intervalMs,
    agentVersion: e.agentVersion,
    certFingerprint: e.certFingerprint,
  }));
}

describe('fleet flusher', () => {
  it('persists changed entries so the index rebuilt from SQLite equals the one before', () => {
    let now = 1_000_000;
    const index = FleetIndex.load(fixture.store.db);
    const flusher = createFleetFlusher({
      store: fixture.store,
      index,
      log: silentLogger,
      flushIntervalMs: () => 1000,
      defaultIntervalMs: () => 60_000,
      staleFactor: () => 2.5,
      now: () => now,
    });
    const entry = index.get(fixture.envoyId)!;
    const traits = JSON.stringify({ os: { family: 'debian' } });
    index.addTraits('f'.repeat(64), traits);
    Object.assign(entry, {
      lastSeenAtMs: now,
      lastTsMs: now - 5,
      policyVersion: 7,
      stateFingerprint: 'e'.repeat(64),
      traitsHash: 'f'.repeat(64),
      intervalMs: 60_000,
      agentVersion: '0.1.0',
    });
    index.markDirty(entry);
    flusher.flush();
    assert.equal(index.pendingCount(), 0);
    const reloaded = FleetIndex.load(fixture.store.db);
    assert.deepEqual(snapshot(reloaded), snapshot(index));
    assert.ok(reloaded.hasTraits('f'.repeat(64)), 'trait documents are stored and known after restart');

    now += 2.5 * 60_000 + 1;
    const transitions = flusher.sweepStale();
    assert.deepEqual(
      transitions.map((t) => [t.entry.id, t.stale]),
      [[fixture.envoyId, true]],
    );
    assert.equal(flusher.sweepStale().length, 0, 'a transition is reported once');
    entry.lastSeenAtMs = now;
    assert.deepEqual(
      flusher.sweepStale().map((t) => t.stale),
      [false],
    );
  });

  it('says when a flush last finished with nothing left to write, for the flusher-lag metric', () => {
    let now = 5_000_000;
    const index = FleetIndex.load(fixture.store.db);
    const flusher = createFleetFlusher({
      store: fixture.store,
      index,
      log: silentLogger,
      flushIntervalMs: () => 1000,
      defaultIntervalMs: () => 60_000,
      staleFactor: () => 2.5,
      now: () => now,
    });
    assert.equal(flusher.lastFlushAtMs(), 0, 'no flush yet');
    flusher.flush();
    assert.equal(flusher.lastFlushAtMs(), now, 'a flush with nothing to write is a finished flush');
    now += 1000;
    index.markDirty(index.get(fixture.envoyId)!);
    flusher.flush();
    assert.equal(flusher.lastFlushAtMs(), now);
  });
});

/** Rows the flusher writes per transaction at most (flusher.ts). */
const rowsPerTransaction = 500;

interface SlicedFixture {
  store: Store;
  index: FleetIndex;
  flusher: FleetFlusher;
  /** Rows written by each committed flusher transaction, in order. */
  transactions: number[];
  /** Event-loop turns seen (setImmediate) when each transaction began. */
  turnsAtTransaction: number[];
  /** Runs after the n-th committed transaction (0-based). */
  afterTransaction: Map<number, () => void>;
  errors: string[];
  /** Event-loop turns seen so far. */
  turns(): number;
  /** Marks `count` envoys (all when omitted) as checked in at `atMs`. */
  checkIn(atMs: number, count?: number): EnvoyEntry[];
  /** Resolves once `done()` holds, polling once per event-loop turn; fails after a deadline. */
  until(done: () => boolean, what: string): Promise<void>;
}

/** A store in a temp dir with `envoys` enrolled envoys. */
function seededStore(envoys: number): { store: Store; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-'));
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  const insert = store.db.prepare(
    `INSERT INTO envoys (id, hostname, public_key, status, enrolled_at) VALUES (?, ?, ?, 'active', 1)`,
  );
  store.tx(() => {
    for (let i = 0; i < envoys; i++) insert.run(randomUUID(), `host-${i}.example.com`, randomBytes(32));
  });
  return {
    store,
    remove: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Counts event-loop turns with a setImmediate loop, until the test ends. */
function turnCounter(t: TestContext): () => number {
  let turns = 0;
  let spinner = setImmediate(function spin() {
    turns += 1;
    spinner = setImmediate(spin);
  });
  t.after(() => clearImmediate(spinner));
  return () => turns;
}

/** `store` with every transaction recorded: its row count, the turn it began in, and a hook after it. */
function observedStore(
  store: Store,
  turns: () => number,
): Pick<SlicedFixture, 'transactions' | 'turnsAtTransaction' | 'afterTransaction'> & { store: Store } {
  const totalChanges = store.db.prepare('SELECT total_changes()').pluck();
  const transactions: number[] = [];
  const turnsAtTransaction: number[] = [];
  const afterTransaction = new Map<number, () => void>();
  const observed: Store = {
    ...store,
    tx: (fn) => {
      turnsAtTransaction.push(turns());
      const before = totalChanges.get() as number;
      const result = store.tx(fn);
      transactions.push((totalChanges.get() as number) - before);
      afterTransaction.get(transactions.length - 1)?.();
      return result;
    },
  };
  return { store: observed, transactions, turnsAtTransaction, afterTransaction };
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadlineMs = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadlineMs) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A real store with `envoys` enrolled envoys and a flusher whose every transaction is observed. Slices
 * are bounded by rows only unless `sliceMs` is given, so that transaction sizes do not depend on speed.
 */
function slicedFixture(t: TestContext, envoys: number, sliceMs = Number.POSITIVE_INFINITY): SlicedFixture {
  const { store, remove } = seededStore(envoys);
  const index = FleetIndex.load(store.db);
  const turns = turnCounter(t);
  const observed = observedStore(store, turns);
  const errors: string[] = [];
  const log = createLogger({ level: 'error', sink: { write: (line: string) => errors.push(line) } });
  const flusher = createFleetFlusher({
    store: observed.store,
    index,
    log,
    flushIntervalMs: () => 1,
    defaultIntervalMs: () => 60_000,
    staleFactor: () => 2.5,
    sliceMs,
  });
  t.after(() => {
    flusher.stop();
    remove();
  });
  return {
    ...observed,
    store,
    index,
    flusher,
    errors,
    turns,
    checkIn: (atMs, count = envoys) => {
      const entries = [...index.values()].slice(0, count);
      for (const entry of entries) {
        entry.lastSeenAtMs = atMs;
        index.markDirty(entry);
      }
      return entries;
    },
    until,
  };
}

function storedLastSeen(store: Store): Map<string, number | null> {
  const rows = store.db.prepare('SELECT id, last_seen_at FROM envoys').all() as {
    id: string;
    last_seen_at: number | null;
  }[];
  return new Map(rows.map((r) => [r.id, r.last_seen_at]));
}

function assertStoredMatchesIndex(f: SlicedFixture): void {
  const stored = storedLastSeen(f.store);
  for (const entry of f.index.values()) {
    assert.equal(stored.get(entry.id), entry.lastSeenAtMs === 0 ? null : entry.lastSeenAtMs, entry.id);
  }
}

describe('fleet flusher, batches and slices', () => {
  it('writes a large batch in bounded transactions with event-loop turns between them', async (t) => {
    const f = slicedFixture(t, 1300);
    f.checkIn(5_000);
    f.flusher.start();
    // The flusher runs every 1 ms here: a later flush may commit before the poll sees the count.
    await f.until(() => f.transactions.length >= 3, 'three transactions are committed');
    assert.deepEqual(f.transactions.slice(0, 3), [500, 500, 300]);
    for (let i = 1; i < 3; i++) {
      assert.ok(
        f.turnsAtTransaction[i]! > f.turnsAtTransaction[i - 1]!,
        `the event loop ran between transaction ${i - 1} and ${i}`,
      );
    }
    assert.ok(f.transactions.every((rows) => rows <= rowsPerTransaction));
    assert.equal(f.index.pendingCount(), 0);
    assertStoredMatchesIndex(f);
    assert.deepEqual(f.errors, []);
  });

  it('ends a transaction early once its time slice is used up', async (t) => {
    const f = slicedFixture(t, 40, 0);
    f.checkIn(5_000);
    f.flusher.start();
    await f.until(() => f.index.pendingCount() === 0 && f.transactions.length === 40, 'all rows are written');
    assert.deepEqual(f.transactions, new Array<number>(40).fill(1));
    assertStoredMatchesIndex(f);
  });

  it('writes traits_hash when it changed and leaves it alone otherwise', async (t) => {
    const f = slicedFixture(t, 3);
    const hash = 'c'.repeat(64);
    f.index.addTraits(hash, JSON.stringify({ os: { family: 'debian' } }));
    const [changed, kept] = f.checkIn(5_000, 2);
    changed!.traitsHash = hash;
    f.flusher.flush();
    const storedHash = f.store.db.prepare('SELECT traits_hash FROM envoys WHERE id = ?').pluck();
    assert.equal(storedHash.get(changed!.id), hash);
    assert.equal(changed!.storedTraitsHash, hash);
    // The row changed behind the index's back: a write that skips the unchanged traits_hash keeps it.
    f.store.db.prepare('UPDATE envoys SET traits_hash = ? WHERE id = ?').run(hash, kept!.id);
    kept!.lastSeenAtMs = 6_000;
    f.index.markDirty(kept!);
    f.flusher.flush();
    assert.equal(storedHash.get(kept!.id), hash);
    assert.equal(storedLastSeen(f.store).get(kept!.id), 6_000);
    changed!.traitsHash = '';
    f.index.markDirty(changed!);
    f.flusher.flush();
    assert.equal(storedHash.get(changed!.id), null);
  });

  it('keeps traits_hash to write again when its transaction fails', (t) => {
    const f = slicedFixture(t, 2);
    const [entry] = f.checkIn(5_000, 1);
    // No such trait document: the foreign key fails the transaction.
    entry!.traitsHash = 'd'.repeat(64);
    f.flusher.flush();
    assert.equal(f.errors.length, 1);
    assert.equal(entry!.storedTraitsHash, '');
    assert.equal(f.index.pendingCount(), 1, 'the row is pending again');
    f.index.addTraits('d'.repeat(64), '{}');
    f.flusher.flush();
    const stored = f.store.db.prepare('SELECT traits_hash FROM envoys WHERE id = ?').pluck().get(entry!.id);
    assert.equal(stored, 'd'.repeat(64));
  });

  it('writes an envoy changed during a flush again, after the flush wrote its older state', async (t) => {
    const f = slicedFixture(t, 1300);
    const [first] = f.checkIn(5_000);
    f.afterTransaction.set(0, () => {
      // A check-in between slices, for an envoy whose row the first transaction already wrote.
      first!.lastSeenAtMs = 9_000;
      f.index.markDirty(first!);
    });
    f.flusher.start();
    await f.until(() => f.transactions.length >= 4, 'the changed envoy is written by the next flush');
    assert.deepEqual(f.transactions.slice(0, 4), [500, 500, 300, 1]);
    assert.equal(storedLastSeen(f.store).get(first!.id), 9_000);
    assertStoredMatchesIndex(f);
  });

  it('puts the unwritten rows back on stop(), and flush() then writes all of them', async (t) => {
    const f = slicedFixture(t, 1300);
    f.checkIn(5_000);
    let stopped = false;
    f.afterTransaction.set(0, () =>
      setImmediate(() => {
        f.flusher.stop();
        stopped = true;
      }),
    );
    f.flusher.start();
    await f.until(() => stopped, 'the flusher is stopped after its first transaction');
    assert.deepEqual(f.transactions, [500]);
    assert.equal(f.index.pendingCount(), 800, 'the rows the stopped flush did not write are pending again');
    const turnsAtStop = f.turns();
    await f.until(() => f.turns() >= turnsAtStop + 3, 'a few event-loop turns have passed');
    assert.deepEqual(f.transactions, [500], 'no slice runs after stop()');
    f.flusher.flush();
    assert.deepEqual(f.transactions, [500, 500, 300]);
    assert.equal(f.index.pendingCount(), 0);
    assertStoredMatchesIndex(f);
  });

  it('lets flush() finish a sliced flush in progress, and keeps flushing on the timer after it', async (t) => {
    const f = slicedFixture(t, 1300);
    f.checkIn(5_000);
    let flushedEarly = false;
    f.afterTransaction.set(0, () =>
      setImmediate(() => {
        if (flushedEarly) return;
        flushedEarly = true;
        f.checkIn(6_000, 10);
        f.flusher.flush();
      }),
    );
    f.flusher.start();
    await f.until(() => f.transactions.length >= 4, 'flush() wrote the rest and the new changes');
    // The rest of the running flush first (one at a time, in order), then what changed since it began.
    assert.deepEqual(f.transactions.slice(0, 4), [500, 500, 300, 10]);
    assertStoredMatchesIndex(f);
    f.checkIn(7_000, 3);
    await f.until(() => f.transactions.at(-1) === 3, 'the timer flushes again');
    assertStoredMatchesIndex(f);
  });

  it('writes trait documents that arrive during a flush together with the envoys that point at them', async (t) => {
    const f = slicedFixture(t, 1300);
    const entries = f.checkIn(5_000);
    const late = entries.at(-1)!;
    const hash = 'a'.repeat(64);
    f.afterTransaction.set(0, () => {
      // The last envoy of the batch checks in with new traits before its row is written.
      f.index.addTraits(hash, JSON.stringify({ os: { family: 'debian' } }));
      late.traitsHash = hash;
    });
    f.flusher.start();
    await f.until(() => f.transactions.length >= 3 && f.index.pendingCount() === 0, 'the batch is written');
    assert.deepEqual(f.errors, [], 'no foreign-key failure');
    const stored = f.store.db.prepare('SELECT traits_hash FROM envoys WHERE id = ?').pluck().get(late.id);
    assert.equal(stored, hash);
    assert.equal(f.store.db.prepare('SELECT count(*) FROM traits').pluck().get(), 1);
  });

  it('sweeps in slices with event-loop turns between them and reports each transition once', async (t) => {
    const f = slicedFixture(t, 3000);
    f.checkIn(1);
    f.flusher.flush();
    const transitions: string[] = [];
    const turnsAtTransition: number[] = [];
    const sweeper = createFleetFlusher({
      store: f.store,
      index: f.index,
      log: silentLogger,
      flushIntervalMs: () => 1,
      defaultIntervalMs: () => 60_000,
      staleFactor: () => 2.5,
      sliceMs: 1,
      onTransition: ({ entry, stale }) => {
        transitions.push(`${entry.id}:${String(stale)}`);
        turnsAtTransition.push(f.turns());
        // A slow reporter (say, a log line each) makes the sweep take tens of ms: it must not be one slice.
        const untilMs = performance.now() + 0.02;
        while (performance.now() < untilMs);
      },
    });
    t.after(() => sweeper.stop());
    sweeper.start();
    await f.until(() => transitions.length >= 3000, 'every envoy became stale');
    assert.ok(turnsAtTransition[2999]! > turnsAtTransition[0]!, 'the event loop ran during the sweep');
    const [seenAgain] = f.checkIn(Date.now(), 1);
    await f.until(() => transitions.length > 3000, 'the envoy seen again is reported');
    await f.until(() => f.index.pendingCount() === 0, 'the next tick has run');
    assert.deepEqual(transitions.slice(3000), [`${seenAgain!.id}:false`]);
    assert.equal(new Set(transitions.slice(0, 3000)).size, 3000);
    assert.ok(transitions.slice(0, 3000).every((x) => x.endsWith(':true')));
  });
});
