import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { rawFromPublicKey, verifyBundle } from '../../protocol/index.ts';
import { verifyAudit } from '../audit/index.ts';
import { VigoError, silentLogger } from '../core/index.ts';
import type { Ctx } from '../core/index.ts';
import { FleetIndex } from '../fleet/index.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { ensureActiveVersion } from '../checkin/index.ts';
import { createPublishService, createSnapshotPolicy, createValidatorPool } from './index.ts';
import type { PublishService, StackFile, ValidatorPool } from './index.ts';

const alice: Ctx = {
  requestId: 'r1',
  actor: { kind: 'user', userId: 'u1', username: 'alice', role: 'admin' },
  log: silentLogger,
};
const bob: Ctx = { ...alice, actor: { kind: 'user', userId: 'u2', username: 'bob', role: 'admin' } };

function stack(motd: string, extraEntry = false): StackFile[] {
  return [
    {
      path: 'configcrates/motd.vgo',
      content: `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-motd\n    content: "${motd}"\n`,
    },
    { path: 'roles.vgo', content: 'roles:\n  base:\n    configcrates: [motd]\n' },
    {
      path: 'envoys.vgo',
      content:
        'envoys:\n' +
        (extraEntry ? '  - match: "db-*"\n    roles: [base]\n' : '') +
        '  - match: "web-*"\n    roles: [base]\n',
    },
  ];
}

interface Harness {
  dir: string;
  store: Store;
  fleet: FleetIndex;
  service: PublishService;
  activations: { version: number; snapshot: CompiledSnapshot | undefined }[];
  approval: { required: boolean };
  clock: { nowMs: number };
  /** A new service over the same database, as after a server restart (nothing cached). */
  restart(): PublishService;
}

// One validator worker serves every harness of this file, as one serves the whole server.
const validator = createValidatorPool({
  log: silentLogger,
  limits: () => ({ timeoutMs: 60_000, maxHeapMb: 512, maxQueued: 4 }),
});
const restartedPools: ValidatorPool[] = [];
after(async () => {
  await validator.close();
  await Promise.all(restartedPools.map((p) => p.close()));
});

function harness(): Harness {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-publish-'));
  const store = openStore({ file: path.join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  ensureActiveVersion(store, 1_000);
  const fleet = FleetIndex.load(store.db);
  for (const hostname of ['web-1', 'web-2', 'db-1']) {
    fleet.recordEnrollment({
      id: randomUUID(),
      hostname,
      publicKeyRaw: rawFromPublicKey(generateKeyPairSync('ed25519').publicKey),
      certFingerprint: 'ab'.repeat(32),
      enrolledAtMs: 1_000,
      reenrolled: false,
    });
  }
  const activations: Harness['activations'] = [];
  const approval = { required: false };
  const clock = { nowMs: 1_700_000_000_000 };
  const make = (pool: ValidatorPool): PublishService =>
    createPublishService({
      store,
      log: silentLogger,
      fleet,
      validator: pool,
      validatorOptions: () => ({
        protectedPaths: ['/var/lib/vigo'],
        protectedServices: [],
        knownSecrets: [],
      }),
      approvalRequired: () => approval.required,
      activate: (version, snapshot) => activations.push({ version, snapshot }),
      scratchDir: path.join(dir, 'tmp'),
      now: () => clock.nowMs,
    });
  // A restarted server has a new validator worker too: nothing it compiled before is cached anywhere.
  const restart = (): PublishService => {
    const pool = createValidatorPool({
      log: silentLogger,
      limits: () => ({ timeoutMs: 60_000, maxHeapMb: 512, maxQueued: 4 }),
    });
    restartedPools.push(pool);
    return make(pool);
  };
  return { dir, store, fleet, service: make(validator), activations, approval, clock, restart };
}

function auditActions(store: Store): string[] {
  return (store.db.prepare('SELECT action FROM audit_log ORDER BY seq').pluck().all() as string[]).filter(
    (a) => a.startsWith('config.'),
  );
}

describe('publish service', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    h.store.close();
    fs.rmSync(h.dir, { recursive: true, force: true });
  });

  it('publishes an upload, activates it and audits it; an identical publish changes nothing', async () => {
    const result = await h.service.publish(
      alice,
      { kind: 'files', files: stack('hello') },
      { message: 'first' },
    );
    assert.equal(result.outcome, 'activated');
    assert.equal(result.outcome === 'activated' && result.version, 2);
    assert.equal(h.activations.length, 1);
    assert.equal(h.activations[0]?.version, 2);
    assert.equal(h.service.status().active?.version, 2);
    assert.equal(h.service.status().active?.createdBy, 'user:alice');
    const again = await h.service.publish(alice, { kind: 'files', files: stack('hello') }, {});
    assert.equal(again.outcome, 'unchanged');
    assert.equal(h.activations.length, 1);
    assert.deepEqual(auditActions(h.store), ['config.initialized', 'config.published']);
    assert.equal(verifyAudit(h.store.db).ok, true);
    assert.deepEqual(fs.readdirSync(path.join(h.dir, 'tmp')), [], 'the upload scratch dir is removed');
  });

  it('dry-run reports per-entry and per-envoy changes and changes nothing', async () => {
    await h.service.publish(alice, { kind: 'files', files: stack('one') }, {});
    const dry = await h.service.publish(
      alice,
      { kind: 'files', files: stack('two', true) },
      { dryRun: true },
    );
    assert.equal(dry.outcome, 'dry_run');
    if (dry.outcome !== 'dry_run') return;
    assert.equal(dry.unchanged, false);
    assert.equal(dry.impact.envoysTotal, 3);
    assert.equal(dry.impact.envoysChanging, 3);
    const web = dry.impact.groups.find((g) => g.entryAfter?.includes('web-*'));
    assert.deepEqual(web?.hostnames.sort(), ['web-1', 'web-2']);
    assert.deepEqual(web?.changed, ['motd/motd']);
    const db = dry.impact.groups.find((g) => g.entryAfter?.includes('db-*'));
    assert.equal(db?.entryBefore, null);
    assert.deepEqual(db?.added, ['motd/motd']);
    assert.equal(h.service.status().active?.version, 2, 'a dry run activates nothing');
    assert.equal(h.activations.length, 1);
  });

  it('refuses invalid stacks with every diagnostic and stores nothing', async () => {
    const bad = [
      ...stack('x'),
      {
        path: 'configcrates/bad.vgo',
        content: 'name: bad\nresources:\n  - name: r\n    type: exec\n    command: "true"\n',
      },
    ];
    await assert.rejects(
      h.service.publish(alice, { kind: 'files', files: bad }, {}),
      (err: unknown) =>
        err instanceof VigoError &&
        err.code === 'publish.stacks_invalid' &&
        Array.isArray(err.details.diagnostics) &&
        /configcrates\/bad\.vgo:\d+:\d+/.test(err.message),
    );
    assert.equal(h.service.history().length, 1);
    assert.equal(h.activations.length, 0);
  });

  it('refuses unsafe upload paths before writing anything', async () => {
    for (const p of ['../escape.vgo', '/etc/passwd', 'a//b.vgo', 'a/./b.vgo']) {
      await assert.rejects(
        h.service.validate({ kind: 'files', files: [{ path: p, content: 'x' }] }),
        (err: unknown) => err instanceof VigoError && err.code === 'publish.upload_invalid',
        p,
      );
    }
    assert.equal(fs.existsSync(path.join(h.dir, 'escape.vgo')), false);
  });

  it('two-person approval: pending until a different admin approves; both identities audited', async () => {
    h.approval.required = true;
    const result = await h.service.publish(alice, { kind: 'files', files: stack('needs approval') }, {});
    assert.equal(result.outcome, 'pending');
    assert.equal(h.activations.length, 0);
    assert.equal(h.service.status().active?.version, 1);
    await assert.rejects(
      h.service.publish(bob, { kind: 'files', files: stack('another') }, {}),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.pending_exists',
    );
    await assert.rejects(
      h.service.approve(alice, 2),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.self_approval',
    );
    assert.equal(h.service.status().active?.version, 1);
    await h.service.approve(bob, 2);
    assert.equal(h.service.status().active?.version, 2);
    assert.equal(h.service.status().active?.approvedBy, 'user:bob');
    assert.equal(h.activations.at(-1)?.version, 2);
    const approved = h.store.db
      .prepare("SELECT details FROM audit_log WHERE action = 'config.approved'")
      .pluck()
      .get() as string;
    assert.deepEqual(JSON.parse(approved), {
      approvedBy: 'user:bob',
      requestedBy: 'user:alice',
      snapshotHash: result.snapshotHash,
    });
    await assert.rejects(
      h.service.approve(bob, 2),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.not_pending',
    );
  });

  it('a rejected publish is never served', async () => {
    h.approval.required = true;
    await h.service.publish(alice, { kind: 'files', files: stack('nope') }, {});
    h.service.reject(bob, 2, 'not today');
    assert.equal(h.service.history()[0]?.status, 'rejected');
    await assert.rejects(
      h.service.rollback(bob, 2),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.rollback_invalid',
    );
    assert.deepEqual(auditActions(h.store).slice(1), ['config.publish_requested', 'config.rejected']);
  });

  it('after a restart, loads stored snapshots in the worker, verified, before it switches anything', async () => {
    h.approval.required = true;
    const pending = await h.service.publish(alice, { kind: 'files', files: stack('approved later') }, {});
    assert.equal(pending.outcome, 'pending');
    const fresh = h.restart();
    await fresh.approve(bob, 2);
    const served = h.activations.at(-1)?.snapshot;
    assert.equal(served?.hash, pending.snapshotHash);
    assert.equal(served?.matchEntry('web-1')?.merkleRoot.length, 64);
    const detail = await h.restart().show(2);
    assert.deepEqual(
      detail.diff.map((d) => d.status),
      ['added'],
    );
    // A stored snapshot altered behind the server's back is refused, and nothing is switched.
    h.approval.required = false;
    await h.service.publish(alice, { kind: 'files', files: stack('newer') }, {});
    h.store.db
      .prepare(
        "UPDATE config_snapshots SET body = CAST(replace(CAST(body AS TEXT), 'approved later', 'tampered!!!!!!') AS BLOB) WHERE hash = ?",
      )
      .run(pending.snapshotHash);
    const before = h.activations.length;
    await assert.rejects(
      h.restart().rollback(bob, 2),
      (err: unknown) => err instanceof VigoError && err.code === 'policy.snapshot_invalid',
    );
    assert.equal(h.activations.length, before);
    assert.equal(h.service.status().active?.version, 3);
  });

  it('rollback serves an earlier snapshot as a new version', async () => {
    const first = await h.service.publish(alice, { kind: 'files', files: stack('v-one') }, {});
    await h.service.publish(alice, { kind: 'files', files: stack('v-two') }, {});
    const rolled = await h.service.rollback(bob, 2, 'v-two broke things');
    assert.deepEqual(rolled, { version: 4, restored: 2 });
    const statuses = h.service.history().map((r) => [r.version, r.status]);
    assert.deepEqual(statuses, [
      [4, 'active'],
      [3, 'rolled_back'],
      [2, 'superseded'],
      [1, 'superseded'],
    ]);
    assert.equal(h.activations.at(-1)?.snapshot?.hash, first.snapshotHash);
    assert.equal(h.service.status().active?.snapshotHash, first.snapshotHash);
    await assert.rejects(
      h.service.rollback(bob, 4),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.rollback_invalid',
    );
    await assert.rejects(
      h.service.rollback(bob, 99),
      (err: unknown) => err instanceof VigoError && err.code === 'publish.version_not_found',
    );
    // Rolling back to the initial empty configuration serves nothing again.
    await h.service.rollback(bob, 1);
    assert.equal(h.activations.at(-1)?.snapshot, undefined);
    const detail = await h.service.show(2);
    assert.equal(detail.comparedWith, 1);
    assert.deepEqual(
      detail.diff.map((d) => d.status),
      ['added'],
    );
  });

  it('takes an upload body as it arrived: the worker parses it against its form, refusing what breaks it', async () => {
    const upload = (body: unknown, form: 'validate' | 'publish' = 'publish') => ({
      kind: 'upload' as const,
      body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
      form,
    });
    const code = (expected: string) => (err: unknown) => err instanceof VigoError && err.code === expected;
    await assert.rejects(h.service.publish(alice, upload('{"files": ['), {}), code('request.invalid'));
    await assert.rejects(
      h.service.publish(alice, upload({ files: stack('x'), extra: 1 }), {}),
      code('request.invalid'),
    );
    await assert.rejects(
      h.service.validate(upload({ files: stack('x'), message: 'validate takes no message' }, 'validate')),
      code('request.invalid'),
    );
    await assert.rejects(
      h.service.publish(alice, upload({ files: [{ path: '../escape.vgo', content: 'x' }] }), {}),
      code('publish.upload_invalid'),
    );
    assert.equal(h.activations.length, 0, 'nothing refused was activated');
    h.service.freeze(alice, h.clock.nowMs + 60_000, 'window');
    const dry = await h.service.publish(alice, upload({ files: stack('x'), dryRun: true }), {});
    assert.equal(dry.outcome, 'dry_run', 'the body says it is a dry run, allowed while frozen');
    await assert.rejects(h.service.publish(alice, upload({ files: stack('x') }), {}), code('publish.frozen'));
    h.service.unfreeze(alice);
    const done = await h.service.publish(alice, upload({ files: stack('x'), message: 'from the body' }), {});
    assert.equal(done.outcome, 'activated');
    assert.equal(h.service.history(1)[0]?.message, 'from the body');
    assert.deepEqual(fs.readdirSync(path.join(h.dir, 'tmp')), [], 'the worker removes its copies');
  });

  it('freeze blocks publish and approval until it ends or is lifted; rollback still works', async () => {
    await h.service.publish(alice, { kind: 'files', files: stack('before freeze') }, {});
    h.service.freeze(alice, h.clock.nowMs + 3_600_000, 'holiday');
    await assert.rejects(
      h.service.publish(alice, { kind: 'files', files: stack('during freeze') }, {}),
      (err: unknown) =>
        err instanceof VigoError && err.code === 'publish.frozen' && /holiday/.test(err.message),
    );
    const dry = await h.service.publish(
      alice,
      { kind: 'files', files: stack('during freeze') },
      { dryRun: true },
    );
    assert.equal(dry.outcome, 'dry_run', 'a dry run is allowed while frozen');
    await h.service.rollback(alice, 1);
    h.clock.nowMs += 3_600_001;
    assert.equal(h.service.status().frozen, undefined, 'the freeze ends by itself');
    h.service.freeze(alice, h.clock.nowMs + 60_000, '');
    assert.deepEqual(h.service.unfreeze(bob), { wasFrozen: true });
    const after = await h.service.publish(alice, { kind: 'files', files: stack('after') }, {});
    assert.equal(after.outcome, 'activated');
    assert.throws(
      () => h.service.freeze(alice, h.clock.nowMs - 1, 'past'),
      (err: unknown) => err instanceof VigoError && err.code === 'request.invalid',
    );
    assert.ok(auditActions(h.store).includes('config.frozen'));
    assert.ok(auditActions(h.store).includes('config.unfrozen'));
  });

  it('history pages newest first', async () => {
    for (const m of ['a', 'b', 'c']) await h.service.publish(alice, { kind: 'files', files: stack(m) }, {});
    assert.deepEqual(
      h.service.history(2).map((r) => r.version),
      [4, 3],
    );
    assert.deepEqual(
      h.service.history(2, 3).map((r) => r.version),
      [2, 1],
    );
  });
});

describe('snapshot policy', () => {
  it('a bundle over its render budget for some traits fails alone, once, and is not rendered again', async () => {
    const h = harness();
    try {
      const files: StackFile[] = [
        {
          path: 'configcrates/t.vgo',
          content:
            "name: t\nresources:\n  - name: t\n    type: file\n    target_path: /etc/t\n    content: '{{ range .Traits.n }}x{{ end }}'\n",
        },
        { path: 'envoys.vgo', content: 'envoys:\n  - match: "*"\n    configcrates: [t]\n' },
      ];
      await h.service.publish(alice, { kind: 'files', files }, {});
      const snapshot = h.activations[0]?.snapshot;
      assert.ok(snapshot);
      const traits: Record<string, string> = { small: '{"n":3}', huge: '{"n":1000000000}' };
      const failures: { entryId: string; traitsHash: string; code: string }[] = [];
      const policy = createSnapshotPolicy({
        version: 2,
        snapshot,
        signingKey: generateKeyPairSync('ed25519').privateKey,
        maxAgeMs: () => 3_600_000,
        observeOnly: () => false,
        secretsEpoch: () => 0,
        traitsJson: (hash) => traits[hash],
        onBundleFailure: ({ entryId, traitsHash, error }) =>
          failures.push({ entryId, traitsHash, code: error.code }),
      });
      const [web1, web2] = [...h.fleet.values()].filter((e) => e.hostname.startsWith('web-'));
      assert.ok(web1 && web2);
      web1.traitsHash = 'huge';
      web2.traitsHash = 'small';
      const overBudget = (err: unknown): boolean =>
        err instanceof VigoError &&
        err.code === 'policy.template_limit' &&
        err.details.limit === 'iterations';
      assert.throws(() => policy.bundleFor(web1, 1_000), overBudget);
      assert.throws(() => policy.bundleFor(web1, 2_000), overBudget);
      assert.deepEqual(failures, [
        { entryId: snapshot.entries[0]!.id, traitsHash: 'huge', code: 'policy.template_limit' },
      ]);
      assert.equal(policy.secretPathsFor(web1).size, 0);
      const served = JSON.parse(Buffer.from(policy.bundleFor(web2, 1_000).bundle.payload).toString()) as {
        resources: { params: { content: string } }[];
      };
      assert.equal(served.resources[0]?.params.content, 'xxx');
    } finally {
      h.store.close();
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('serves each envoy its entry, signs once per entry and falls back to the empty bundle', async () => {
    const h = harness();
    try {
      const result = await h.service.publish(alice, { kind: 'files', files: stack('served') }, {});
      const snapshot = h.activations[0]?.snapshot;
      assert.ok(snapshot);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const policy = createSnapshotPolicy({
        version: 2,
        snapshot,
        signingKey: privateKey,
        maxAgeMs: () => 3_600_000,
        observeOnly: () => false,
        secretsEpoch: () => 0,
        traitsJson: () => undefined,
      });
      const envoys = [...h.fleet.values()];
      const web1 = envoys.find((e) => e.hostname === 'web-1');
      const web2 = envoys.find((e) => e.hostname === 'web-2');
      const db1 = envoys.find((e) => e.hostname === 'db-1');
      assert.ok(web1 && web2 && db1);
      const a = policy.bundleFor(web1, 1_000);
      const b = policy.bundleFor(web2, 2_000);
      assert.equal(a, b, 'envoys of one entry share one signed bundle');
      assert.equal(verifyBundle(publicKey, a.bundle), true);
      const document = JSON.parse(Buffer.from(a.bundle.payload).toString()) as {
        entry_id: string;
        policy_version: number;
        merkle_root: string;
        resources: { id: string; params: { content: string } }[];
      };
      assert.equal(document.policy_version, 2);
      assert.equal(document.merkle_root, a.merkleRoot);
      assert.deepEqual(
        document.resources.map((r) => [r.id, r.params.content]),
        [['motd/motd', 'served']],
      );
      const none = policy.bundleFor(db1, 1_000);
      assert.equal(verifyBundle(publicKey, none.bundle), true);
      const empty = JSON.parse(Buffer.from(none.bundle.payload).toString()) as {
        entry_id: string | null;
        resources: unknown[];
      };
      assert.equal(empty.entry_id, null);
      assert.deepEqual(empty.resources, []);
      assert.notEqual(policy.bundleFor(web1, 1_000 + 1_800_001), a, 'rebuilt after half its lifetime');
      assert.ok(result.snapshotHash);
    } finally {
      h.store.close();
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  });
});
