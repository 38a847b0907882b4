/** Helpers for this module's tests: a real store, FleetIndex, event bus and results committer on temp files. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createResultsCommitter } from '../checkin/index.ts';
import type { RunRecord } from '../checkin/index.ts';
import { silentLogger } from '../core/index.ts';
import { createEventBus } from '../events/index.ts';
import type { VigoEvent } from '../events/index.ts';
import { FleetIndex, envoyReachability } from '../fleet/index.ts';
import { validateStacks } from '../policy/index.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { createComplianceService } from './service.ts';
import type { ComplianceService } from './service.ts';

const dirs: string[] = [];

/** Removes every temp dir the helpers made (call from after()). */
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-compliance-'));
  dirs.push(d);
  return d;
}

const crate = (name: string, claims: string): string => `name: ${name}
compliance:
${claims}resources:
  - name: conf
    type: file
    target_path: /tmp/vigo-demo/${name}
    content: hello
`;

export async function compile(
  waiverExpires: string | undefined,
  waiverMatch = 'web-*',
): Promise<CompiledSnapshot> {
  const dir = tempDir();
  const files: Record<string, string> = {
    'configcrates/base.vgo': crate('base', '  cis: ["1.1.1"]\n'),
    'configcrates/nginx.vgo': crate('nginx', '  cis: ["5.2"]\n  nist-800-53: [CM-6]\n'),
    'roles.vgo': 'roles:\n  web:\n    configcrates: [base, nginx]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [web]\n',
  };
  if (waiverExpires !== undefined)
    files['compliance.vgo'] = `waivers:
  - match: "${waiverMatch}"
    framework: cis
    control: "5.2"
    reason: nginx is replaced next quarter
    owner: web-team
    expires: "${waiverExpires}"
`;
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const result = await validateStacks(dir, {
    protectedPaths: [],
    protectedServices: [],
    secretExists: () => true,
    now: () => 1_700_000_000_000,
  });
  assert.ok(result.snapshot, JSON.stringify(result.diagnostics));
  return result.snapshot;
}

export function openFixture(file: string): Store {
  return openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
}

export function enroll(store: Store, hostname: string): string {
  const id = randomUUID();
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  store.db
    .prepare(
      `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at)
       VALUES (?, ?, ?, ?, 'active', ?)`,
    )
    .run(id, hostname, raw, 'ab'.repeat(32), Date.now());
  return id;
}

export interface Harness {
  store: Store;
  fleet: FleetIndex;
  service: ComplianceService;
  submit(run: Omit<RunRecord, 'policyVersion' | 'finishedAtMs' | 'traceId'>): Promise<void>;
  events: VigoEvent[];
  close(): void;
}

export function harness(file: string, clock: { now: number }): Harness {
  const store = openFixture(file);
  const fleet = FleetIndex.load(store.db);
  const bus = createEventBus({ retain: 100 });
  const events: VigoEvent[] = [];
  const sub = bus.subscribe({ types: ['compliance.waiver_expired'], maxQueued: 100 });
  void (async () => {
    for await (const e of sub) events.push(e);
  })();
  const service = createComplianceService({
    db: store.db,
    log: silentLogger,
    bus,
    host: (id) => fleet.get(id),
    hosts: () => fleet.values(),
    reachability: (h) => envoyReachability(fleet.get(h.id)!),
    now: () => clock.now,
  });
  const results = createResultsCommitter({
    store,
    log: silentLogger,
    maxQueuedResults: 1000,
    maxDelayMs: 1,
    compliance: service,
  });
  return {
    store,
    fleet,
    service,
    events,
    submit: async (run) => {
      await results.submit([{ ...run, policyVersion: 1, finishedAtMs: run.startedAtMs + 1, traceId: '' }]);
    },
    close: () => {
      service.close();
      bus.close();
      store.close();
    },
  };
}

export const result = (crateName: string, outcome: RunRecord['results'][number]['outcome']) => ({
  resourceId: `${crateName}/conf`,
  resourceType: 'file',
  configcrate: crateName,
  outcome,
  message: '',
  durationMs: 1,
});
