/**
 * What moving an envoy's convergence state costs per stored run: the results committer stages each new run
 * with the tracker inside its batch transaction (state row upserted, a history row on a transition) and
 * commits the in-memory states after it. The benchmark drives that exact path on a real SQLite file, for a
 * fleet of N envoys reporting in batches as the committer groups them, with runs of each kind (all
 * unchanged, some changed, some failed) so that transitions happen at the rate a drifting fleet has them.
 *
 *   npm run bench:convergence -- [N envoys, default 100000] [runs per envoy, default 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConvergenceTracker, initialConvergence } from '../server/convergence/index.ts';
import type { ConvergenceHolder, RunSummary } from '../server/convergence/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { openStore } from '../server/store/index.ts';

const envoys = Number(process.argv[2] ?? 100_000);
const runsPerEnvoy = Number(process.argv[3] ?? 5);
/** Runs per transaction, about what the committer groups at a 20 ms delay under load. */
const batch = 500;

const dir = mkdtempSync(join(tmpdir(), 'vigo-bench-convergence-'));
try {
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 5_000 });
  const holders = new Map<string, ConvergenceHolder>();
  const insert = store.db.prepare(
    'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, ?, ?)',
  );
  store.tx(() => {
    for (let i = 0; i < envoys; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      insert.run(id, `host-${i}.example.com`, Buffer.alloc(32, 1), Date.now());
      holders.set(id, { id, hostname: `host-${i}.example.com`, convergence: initialConvergence });
    }
  });
  let transitions = 0;
  const tracker = createConvergenceTracker({
    db: store.db,
    holder: (id) => holders.get(id),
    onTransition: () => (transitions += 1),
  });
  const ids = [...holders.keys()];
  // A run in ten changes something, one in fifty fails: envoys move between states now and then.
  const summary = (n: number, round: number): RunSummary => ({
    runId: `run-${round}-${n}`,
    startedAtMs: 1_700_000_000_000 + round * 60_000,
    dryRun: false,
    unchanged: 48,
    changed: n % 10 === round % 10 ? 2 : 0,
    failed: n % 50 === round % 50 ? 1 : 0,
    blocked: 0,
    skipped: 0,
  });
  const started = performance.now();
  let runs = 0;
  for (let round = 0; round < runsPerEnvoy; round++) {
    for (let from = 0; from < ids.length; from += batch) {
      const slice = ids.slice(from, from + batch);
      store.tx(() => {
        for (let k = 0; k < slice.length; k++) tracker.stage(slice[k]!, summary(from + k, round));
      });
      tracker.commit();
      runs += slice.length;
    }
  }
  const elapsedMs = performance.now() - started;
  const history = store.db.prepare('SELECT count(*) FROM convergence_history').pluck().get() as number;
  store.close();
  process.stdout.write(
    `${runs.toLocaleString('en')} runs of ${envoys.toLocaleString('en')} envoys in batches of ${batch}: ` +
      `${((elapsedMs * 1000) / runs).toFixed(1)} µs per run (state upsert, transition check, history row ` +
      `on a transition, in-memory commit); ${transitions.toLocaleString('en')} transitions, ` +
      `${history.toLocaleString('en')} history rows; limited by SQLite writes on this thread\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: 'convergence', envoys, runs, usPerRun: Number(((elapsedMs * 1000) / runs).toFixed(1)), transitions })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
