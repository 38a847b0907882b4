/**
 * Compliance at fleet scale, in-process on a temp SQLite file: N envoys (default 10,000) each served five
 * configcrates that claim CIS and NIST 800-53 controls, one run per envoy stored through the real results
 * committer (some resources failing), one waiver; then times the recompute after a publish and the OSCAL
 * export of one framework over every envoy, with the longest event-loop stall during each (the export is
 * built in time slices so check-ins keep being served). Prints figures; asserts nothing.
 *   node --import tsx bench/compliance.ts [N]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createResultsCommitter } from '../server/checkin/index.ts';
import type { RunRecord } from '../server/checkin/index.ts';
import { buildOscalAssessmentResults, createComplianceService } from '../server/compliance/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { FleetIndex, envoyReachability } from '../server/fleet/index.ts';
import { validateStacks } from '../server/policy/index.ts';
import { openStore } from '../server/store/index.ts';

const count = Number(process.argv[2] ?? 10_000);
const crates = ['ssh', 'audit', 'ntp', 'firewall', 'logging'];
const dir = mkdtempSync(join(tmpdir(), 'vigo-bench-compliance-'));

function writeStacks(): string {
  const root = join(dir, 'stacks');
  const files: Record<string, string> = {
    'envoys.vgo': `envoys:\n  - match: "host-*"\n    configcrates: [${crates.join(', ')}]\n`,
    'compliance.vgo': `waivers:\n  - match: "host-1*"\n    framework: cis\n    control: "2.1"\n    reason: bench\n    owner: bench\n    expires: 2099-01-01\n`,
  };
  crates.forEach((name, i) => {
    files[`configcrates/${name}.vgo`] =
      `name: ${name}\ncompliance:\n  cis: ["${i + 1}.1", "${i + 1}.2"]\n  nist-800-53: [AC-${i + 1}]\nresources:\n` +
      [0, 1, 2]
        .map(
          (r) =>
            `  - name: r${r}\n    type: file\n    target_path: /tmp/vigo-bench/${name}-${r}\n    content: x\n`,
        )
        .join('');
  });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

async function stall<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; stallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  h.disable();
  return { value, ms, stallMs: h.max / 1e6 };
}

try {
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 5000 });
  const insert = store.db.prepare(
    `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at) VALUES (?, ?, ?, ?, 'active', ?)`,
  );
  const ids: string[] = [];
  store.tx(() => {
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      ids.push(id);
      insert.run(id, `host-${i}.dc1.example.com`, Buffer.alloc(32, 7), 'ab'.repeat(32), Date.now());
    }
  });
  const fleet = FleetIndex.load(store.db);
  const result = await validateStacks(writeStacks(), {
    protectedPaths: [],
    protectedServices: [],
    secretExists: () => true,
  });
  if (result.snapshot === undefined) throw new Error(JSON.stringify(result.diagnostics));
  const service = createComplianceService({
    db: store.db,
    log: silentLogger,
    host: (id) => fleet.get(id),
    hosts: () => fleet.values(),
    reachability: (h) => envoyReachability(fleet.get(h.id)!),
  });
  service.activate(result.snapshot);
  await service.settled();
  const committer = createResultsCommitter({
    store,
    log: silentLogger,
    maxQueuedResults: 1_000_000,
    maxDelayMs: 5,
    compliance: service,
  });
  const runsStarted = performance.now();
  for (let i = 0; i < count; i += 500) {
    const batch = ids.slice(i, i + 500).map((envoyId, j): RunRecord => ({
      runId: randomUUID(),
      envoyId,
      policyVersion: 1,
      startedAtMs: Date.now(),
      finishedAtMs: Date.now(),
      dryRun: false,
      traceId: '',
      results: crates.flatMap((crate, c) =>
        [0, 1, 2].map((r) => ({
          resourceId: `${crate}/r${r}`,
          resourceType: 'file',
          configcrate: crate,
          outcome: (i + j + c + r) % 17 === 0 ? ('failed' as const) : ('none' as const),
          message: '',
          durationMs: 1,
        })),
      ),
    }));
    await Promise.all(batch.map((run) => committer.submit([run])));
  }
  const runsMs = performance.now() - runsStarted;
  const recompute = await stall(async () => {
    service.activate(result.snapshot);
    await service.settled();
  });
  const oscal = await stall(() => buildOscalAssessmentResults(service, { framework: 'cis' }));
  const cis = service.tally.summary('cis');
  console.log(
    JSON.stringify(
      {
        envoys: count,
        cisCoveragePct: cis?.coveragePct,
        storeRunsMs: Math.round(runsMs),
        storeRunsPerRunMs: Number((runsMs / count).toFixed(3)),
        recomputeAllMs: Math.round(recompute.ms),
        recomputeLongestStallMs: Number(recompute.stallMs.toFixed(1)),
        oscalExportMs: Math.round(oscal.ms),
        oscalLongestStallMs: Number(oscal.stallMs.toFixed(1)),
        oscalBytes: Buffer.byteLength(oscal.value),
      },
      null,
      2,
    ),
  );
  service.close();
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
