/**
 * `npm run bench:prune`: how the history pruner affects the serving thread. A real SQLite file holds
 * --envoys × --runs runs of --results results each, most past retention; while the pruner's thread deletes
 * them, the serving thread keeps committing a run of 50 results every 5 ms (what the results committer
 * does under load) and records how long each commit took, lock waits included, and its event-loop delay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { silentLogger } from '../server/core/index.ts';
import { openStore, startPruner, startWalCheckpointer } from '../server/store/index.ts';
import type { Store } from '../server/store/index.ts';

const { values } = parseArgs({
  options: {
    envoys: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '50' },
    results: { type: 'string', default: '20' },
  },
});
const envoys = Number(values.envoys);
const runsPerEnvoy = Number(values.runs);
const resultsPerRun = Number(values.results);
const day = 86_400_000;
const now = Date.now();

function seed(store: Store): void {
  const envoy = store.db.prepare(
    'INSERT INTO envoys (id, hostname, public_key, enrolled_at) VALUES (?, ?, randomblob(32), ?)',
  );
  const run = store.db.prepare(
    `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
     VALUES (?, ?, 1, ?, ?, ?, 'converged')`,
  );
  const result = store.db.prepare(
    "INSERT INTO run_results (run_id, seq, resource_id, resource_type, outcome) VALUES (?, ?, ?, 'file', 'none')",
  );
  for (let e = 0; e < envoys; e++) {
    store.tx(() => {
      envoy.run(`e-${e}`, `host-${e}.example.com`, now - 400 * day);
      // One run a week going back: with 30 d retention, all but the last 4–5 are past it.
      for (let r = 0; r < runsPerEnvoy; r++) {
        const at = now - r * 7 * day - e;
        const id = `r-${e}-${r}`;
        run.run(id, `e-${e}`, at, at, at);
        for (let seq = 0; seq < resultsPerRun; seq++) result.run(id, seq, `file:/etc/r${seq}`);
      }
    });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-bench-prune-'));
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
  try {
    const seedStarted = performance.now();
    seed(store);
    const runs = envoys * runsPerEnvoy;
    console.log(
      `[bench:prune] seeded ${runs} runs, ${runs * resultsPerRun} results in ${Math.round(performance.now() - seedStarted)} ms`,
    );
    store.checkpoint();
    // As in vigosrv: checkpoints on their own thread, not inside the serving thread's commits.
    const checkpointer = startWalCheckpointer(store, { log: silentLogger, busyTimeoutMs: 5000 });
    const pruner = startPruner(store, {
      log: silentLogger,
      busyTimeoutMs: 5000,
      retention: () => ({ runs: 30 * day, tasks: 0, workflows: 0, convergence_history: 0, deliveries: 0 }),
      intervalMs: () => day,
      firstPassAfterMs: day,
    });
    const insertRun = store.db.prepare(
      `INSERT INTO runs (id, envoy_id, policy_version, started_at, finished_at, received_at, status)
       VALUES (?, 'e-0', 1, ?, ?, ?, 'converged')`,
    );
    const insertResult = store.db.prepare(
      "INSERT INTO run_results (run_id, seq, resource_id, resource_type, outcome) VALUES (?, ?, ?, 'file', 'none')",
    );
    const commitMs: number[] = [];
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let live = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const started = performance.now();
        const id = `live-${live++}`;
        store.tx(() => {
          insertRun.run(id, Date.now(), Date.now(), Date.now());
          for (let seq = 0; seq < 50; seq++) insertResult.run(id, seq, `file:/live/${seq}`);
        });
        commitMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    delay.enable();
    const report = await pruner.prune();
    writing = false;
    await writer;
    delay.disable();
    await pruner.stop();
    await checkpointer.stop();
    commitMs.sort((a, b) => a - b);
    const pick = (q: number): number =>
      commitMs[Math.min(commitMs.length - 1, Math.floor(q * commitMs.length))] ?? 0;
    const rows = [
      ['runs deleted (results with them)', `${report.deleted.runs} (${report.deleted.runs * resultsPerRun})`],
      ['pass', `${(report.ms / 1000).toFixed(1)} s, ${report.transactions} transactions`],
      [
        'longest pruning transaction (the lock a commit may wait for)',
        `${report.longestTxnMs.toFixed(1)} ms`,
      ],
      [
        'serving thread: commits of a 50-result run meanwhile, p50 / p99 / max',
        `${pick(0.5).toFixed(2)} / ${pick(0.99).toFixed(2)} / ${(commitMs.at(-1) ?? 0).toFixed(2)} ms (${commitMs.length} commits)`,
      ],
      ['serving thread: longest event-loop delay meanwhile', `${(delay.max / 1e6).toFixed(1)} ms`],
      [
        'deleted rows per second',
        `${Math.round((report.deleted.runs * (1 + resultsPerRun) * 1000) / report.ms)}`,
      ],
    ];
    const width = Math.max(...rows.map(([label]) => label?.length ?? 0));
    for (const [label, value] of rows) console.log(`${(label ?? '').padEnd(width)}  ${value}`);
    console.log(
      JSON.stringify({
        bench: 'prune',
        runs,
        resultsPerRun,
        deletedRuns: report.deleted.runs,
        passMs: Math.round(report.ms),
        transactions: report.transactions,
        longestTxnMs: Number(report.longestTxnMs.toFixed(1)),
        commitP99Ms: Number(pick(0.99).toFixed(2)),
        commitMaxMs: Number((commitMs.at(-1) ?? 0).toFixed(2)),
        eventLoopMaxMs: Number((delay.max / 1e6).toFixed(1)),
      }),
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
