import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
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
import { waitFor } from '../../test/helpers/deadline.ts';
import { createComplianceService } from './service.ts';
import type { ComplianceService } from './service.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
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

async function compile(waiverExpires: string | undefined): Promise<CompiledSnapshot> {
  const dir = tempDir();
  const files: Record<string, string> = {
    'configcrates/base.vgo': crate('base', '  cis: ["1.1.1"]\n'),
    'configcrates/nginx.vgo': crate('nginx', '  cis: ["5.2"]\n  nist-800-53: [CM-6]\n'),
    'roles.vgo': 'roles:\n  web:\n    configcrates: [base, nginx]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [web]\n',
  };
  if (waiverExpires !== undefined)
    files['compliance.vgo'] = `waivers:
  - match: "web-*"
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

function openFixture(file: string): Store {
  return openStore({ file, log: silentLogger, busyTimeoutMs: 1000 });
}

function enroll(store: Store, hostname: string): string {
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

interface Harness {
  store: Store;
  fleet: FleetIndex;
  service: ComplianceService;
  submit(run: Omit<RunRecord, 'policyVersion' | 'finishedAtMs' | 'traceId'>): Promise<void>;
  events: VigoEvent[];
  close(): void;
}

function harness(file: string, clock: { now: number }): Harness {
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

const result = (crateName: string, outcome: RunRecord['results'][number]['outcome']) => ({
  resourceId: `${crateName}/conf`,
  resourceType: 'file',
  configcrate: crateName,
  outcome,
  message: '',
  durationMs: 1,
});

describe('compliance service', () => {
  it('moves a control enforced → failing → waived → failing when the waiver expires, and survives a restart', async () => {
    const file = path.join(tempDir(), 'vigo.db');
    const setup = openFixture(file);
    const envoyId = enroll(setup, 'web-1.example.com');
    setup.close();
    const clock = { now: Date.UTC(2027, 0, 1) };
    const h = harness(file, clock);
    h.service.activate(await compile(undefined));
    await h.service.settled();

    const before = h.service.envoy(envoyId)!;
    assert.deepEqual(
      before.frameworks.map((f) => [f.framework, f.claimed, f.pending]),
      [
        ['cis', 2, 2],
        ['nist-800-53', 1, 1],
      ],
      'claimed, nothing reported yet',
    );

    await h.submit({
      runId: 'r1',
      envoyId,
      startedAtMs: 1000,
      dryRun: false,
      results: [result('base', 'none'), result('nginx', 'updated')],
    });
    const cis = (): { state: string; control: string }[] =>
      h.service
        .envoy(envoyId)!
        .frameworks.find((f) => f.framework === 'cis')!
        .controls.map((c) => ({
          control: c.control,
          state: c.state,
        }));
    assert.deepEqual(cis(), [
      { control: '1.1.1', state: 'enforced' },
      { control: '5.2', state: 'enforced' },
    ]);
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 100);

    await h.submit({
      runId: 'r2',
      envoyId,
      startedAtMs: 2000,
      dryRun: false,
      results: [result('base', 'none'), result('nginx', 'failed')],
    });
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 50);
    assert.equal(h.service.tally.summary('cis')!.failingEnvoys, 1);
    assert.equal(h.service.envoy(envoyId)!.risk.terms.failing, 33.3, '50 × 1 failing of 3 claimed');

    // A dry run and a late delivery of an older run change nothing.
    await h.submit({
      runId: 'dry',
      envoyId,
      startedAtMs: 3000,
      dryRun: true,
      results: [result('nginx', 'none')],
    });
    await h.submit({
      runId: 'late',
      envoyId,
      startedAtMs: 1500,
      dryRun: false,
      results: [result('nginx', 'none')],
    });
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });

    // Due 50 real milliseconds from now: the expiry timer runs on real time, the clock below is the test's.
    const expiresAtMs = clock.now + 50;
    h.service.activate(await compile(new Date(expiresAtMs).toISOString()));
    await h.service.settled();
    assert.deepEqual(cis()[1], { control: '5.2', state: 'waived' });
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 100);
    assert.deepEqual(
      h.service.waivers().map((w) => [w.control, w.expired, w.envoys]),
      [['5.2', false, 1]],
    );
    assert.equal(h.events.length, 0);

    clock.now = expiresAtMs + 1;
    await waitFor('the waiver_expired event', () => (h.events.length > 0 ? true : undefined));
    await h.service.settled();
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });
    assert.deepEqual(
      h.service.waivers().map((w) => [w.control, w.expired, w.envoys]),
      [['5.2', true, 0]],
    );
    assert.equal(h.events[0]!.data['control'], '5.2');
    const answer = JSON.stringify(h.service.envoy(envoyId));
    const snapshot = h.service.snapshot();
    h.close();

    // A restart reads the stored outcomes and the announced expiry: the same answers, no second event.
    const again = harness(file, clock);
    again.service.activate(snapshot);
    await again.service.settled();
    assert.equal(JSON.stringify(again.service.envoy(envoyId)), answer);
    assert.equal(again.events.length, 0);
    again.close();
  });
});
