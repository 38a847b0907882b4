/**
 * The publish pipeline end to end through the real bin/vigocli and a real vigosrv: invalid stacks are
 * refused with file:line:col and change nothing; a dry run reports per-envoy changes; a publish
 * reaches an enrolled envoy as a signed bundle at its next check-in; history, show, freeze, rollback
 * and two-person approval behave as documented.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnvelopeClock, signRequest } from '../protocol/index.ts';
import type { CheckInResponse } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-publish-srv-');
const work = makeTempDir('vigo-publish-work-');
let server: ReadyServer;
let web: EnrolledAgent;
const clock = createEnvelopeClock();

function writeStack(name: string, motd: string, extra: Record<string, string> = {}): string {
  const dir = join(work.path, name);
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-publish-test-motd\n    content: "${motd}"\n`,
    'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [base]\n',
    ...extra,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function cli(args: string[], srv: ReadyServer = server) {
  return runVigocli(
    ['--server', srv.apiUrl, '--data-dir', srv.dataDir, ...args],
    cleanCliEnv(work.path),
    work.path,
  );
}

async function checkIn(policyVersion: bigint, stateFingerprint: string): Promise<CheckInResponse> {
  const client = agentClient(server, web);
  try {
    return await client.methods.checkIn(
      signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {
        agentVersion: 'test',
        hostname: web.hostname,
        policyVersion,
        stateFingerprint,
      }),
    );
  } finally {
    client.close();
  }
}

interface Document {
  policy_version: number;
  merkle_root: string;
  entry_id: string | null;
  resources: { id: string; params: { content?: string } }[];
}

function documentOf(response: CheckInResponse): Document {
  assert.equal(response.outcome.case, 'bundle');
  return JSON.parse(Buffer.from(response.outcome.value.payload).toString('utf8')) as Document;
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  const token = await createEnrollToken(server, ['web-*']);
  web = await enrollAgent(server, token, 'web-1');
});
after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('vigocli config against a real server', () => {
  it('refuses invalid stacks with every diagnostic, exit 1, and publishes nothing', async () => {
    const dir = writeStack('bad', 'x', {
      'configcrates/deploy.vgo':
        'name: deploy\nresources:\n  - name: run\n    type: exec\n    command: "true"\n',
      'configcrates/typo.vgo':
        'name: typo\nresources:\n  - name: f\n    type: file\n    target_path: /tmp/x\n    contnet: y\n',
    });
    const run = await cli(['config', 'publish', dir]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /configcrates\/deploy\.vgo:\d+:\d+: error [a-z_.]+: .*guard/i);
    assert.match(run.stderr, /configcrates\/typo\.vgo:\d+:\d+: error [a-z_.]+: .*contnet/);
    assert.match(run.stderr, /publish\.stacks_invalid/);
    const validate = await cli(['config', 'validate', dir]);
    assert.equal(validate.code, 1);
    assert.match(validate.stdout, /^configcrates\/deploy\.vgo:\d+:\d+: error /m);
    const history = await cli(['--json', 'config', 'history']);
    const versions = JSON.parse(history.stdout) as { items: unknown[] };
    assert.equal(versions.items.length, 1, 'only the initial empty version exists');
  });

  it('dry-run lists the envoys and resources that would change, then publish delivers the bundle', async () => {
    const first = documentOf(await checkIn(0n, ''));
    assert.equal(first.entry_id, null, 'nothing is published yet');

    const dir = writeStack('v1', 'hello from v1');
    const dry = await cli(['config', 'publish', '--dry-run', dir]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Envoys changing: 1 of 1/);
    assert.match(dry.stdout, /\+ added:\s+motd\/motd/);
    assert.match(dry.stdout, /^\s+web-1$/m);
    const still = await checkIn(BigInt(first.policy_version), first.merkle_root);
    assert.equal(still.outcome.case, 'noChange', 'a dry run serves nothing new');

    const published = await cli(['config', 'publish', '--message', 'first motd', dir]);
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /Published version 2/);
    const bundle = documentOf(await checkIn(BigInt(first.policy_version), first.merkle_root));
    assert.equal(bundle.policy_version, 2);
    assert.deepEqual(
      bundle.resources.map((r) => [r.id, r.params.content]),
      [['motd/motd', 'hello from v1']],
    );
    const again = await checkIn(2n, bundle.merkle_root);
    assert.equal(again.outcome.case, 'noChange');

    const same = await cli(['config', 'publish', dir]);
    assert.match(same.stdout, /No change: version 2/);
  });

  it('history, show, freeze and rollback', async () => {
    const v2 = documentOf(await checkIn(0n, ''));
    const frozen = await cli(['config', 'freeze', '1h', '--reason', 'change window closed']);
    assert.equal(frozen.code, 0, frozen.stderr);
    const refused = await cli(['config', 'publish', writeStack('v3', 'hello from v3')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /publish\.frozen.*change window closed/s);
    const status = await cli(['config', 'status']);
    assert.match(status.stdout, /frozen:\s+until .*change window closed/);
    assert.equal((await cli(['config', 'unfreeze'])).code, 0);
    const v3 = await cli(['config', 'publish', join(work.path, 'v3')]);
    assert.match(v3.stdout, /Published version 3/);

    const show = await cli(['config', 'show', '3']);
    assert.match(show.stdout, /changes since version 2/);
    assert.match(show.stdout, /changed\s+envoys\.vgo\[web-\*\]/);
    assert.match(show.stdout, /~ motd\/motd/);

    const rolled = await cli(['config', 'rollback', '2', '--yes', '--message', 'v3 motd was wrong']);
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.match(rolled.stdout, /version 4 now serves the configuration of version 2/);
    const served = documentOf(await checkIn(3n, ''));
    assert.equal(served.policy_version, 4);
    assert.equal(served.merkle_root, v2.merkle_root, 'the exact snapshot of version 2 is served again');
    assert.equal(served.resources[0]?.params.content, 'hello from v1');

    const history = JSON.parse((await cli(['--json', 'config', 'history'])).stdout) as {
      items: { version: number; status: string; createdBy: string; source: string }[];
    };
    assert.deepEqual(
      history.items.map((v) => [v.version, v.status]),
      [
        [4, 'active'],
        [3, 'rolled_back'],
        [2, 'superseded'],
        [1, 'superseded'],
      ],
    );
    assert.equal(history.items[0]?.createdBy, 'local-admin');
    assert.equal(history.items[0]?.source, 'rollback:2');
  });
});

describe('npm start', () => {
  const dataDir = makeTempDir('vigo-npm-start-');
  after(() => dataDir.remove());

  it('publishes policies/demo with the flags package.json gives vigosrv', async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const [bin, ...args] = pkg.scripts.start.split(/\s+/);
    assert.equal(bin, 'bin/vigosrv');
    // The script runs from the checkout: relative paths resolve there.
    const absolute = args.map((a) => (a.startsWith('-') ? a : resolve(repoRoot, a)));
    const started = await startServer({ dataDir: dataDir.path, args: absolute });
    try {
      const line = await started.waitForLog(
        'the start-up publish',
        (l) => l.msg === 'start-up publish',
        30_000,
      );
      assert.equal(line['outcome'], 'activated');
      const status = await cli(['--json', 'config', 'status'], started);
      assert.equal((JSON.parse(status.stdout) as { active: { version: number } }).active.version, 2);
    } finally {
      assert.equal(await started.stop(), 0);
    }
  });
});

describe('the active upload, validated again at start', () => {
  const dataDir = makeTempDir('vigo-revalidate-srv-');
  after(() => dataDir.remove());
  const dbFile = join(dataDir.path, 'db', 'vigo.db');
  const started = (line: Record<string, unknown>): boolean =>
    line.msg === 'active stacks validated again at start';

  it('warms the validator on the upload the active version came from, and says when it no longer validates', async () => {
    let srv = await startServer({ dataDir: dataDir.path });
    try {
      for (const motd of ['first', 'second']) {
        const run = await cli(['config', 'publish', writeStack(`kept-${motd}`, motd)], srv);
        assert.equal(run.code, 0, run.stderr);
      }
    } finally {
      assert.equal(await srv.stop(), 0);
    }
    const db = new Database(dbFile, { readonly: true });
    const kept = db.prepare('SELECT count(*) FROM config_sources').pluck().get();
    db.close();
    assert.equal(kept, 1, 'only the active version keeps its upload');

    srv = await startServer({ dataDir: dataDir.path });
    try {
      const line = await srv.waitForLog('the start-up validation', started, 30_000);
      assert.equal(line['ok'], true);
      assert.equal(line['errors'], 0);
      assert.equal(line['version'], 3);
    } finally {
      assert.equal(await srv.stop(), 0);
    }

    // Stacks this server would not accept any more (as after an upgrade that tightened a rule).
    const writable = new Database(dbFile);
    const body = JSON.stringify({
      files: [
        { path: 'configcrates/x.vgo', content: 'name: x\nresources:\n  - name: r\n    type: nosuchtype\n' },
      ],
    });
    writable.prepare('UPDATE config_sources SET body = ?').run(Buffer.from(body));
    writable.close();
    srv = await startServer({ dataDir: dataDir.path });
    try {
      const warned = await srv.waitForLog(
        'the warning',
        (l) => l.msg === 'the active configuration no longer validates with this server; it is still served',
        30_000,
      );
      assert.equal(warned['version'], 3);
      assert.match(String(warned['first']), /configcrates\/x\.vgo:\d+:\d+ /);
      const status = await cli(['--json', 'config', 'status'], srv);
      assert.equal((JSON.parse(status.stdout) as { active: { version: number } }).active.version, 3);
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});

describe('two-person approval', () => {
  const dataDir = makeTempDir('vigo-approval-srv-');
  let approvalServer: ReadyServer;
  before(async () => {
    approvalServer = await startServer({ dataDir: dataDir.path, env: { VIGO_PUBLISH_APPROVAL: 'required' } });
  });
  after(async () => {
    await approvalServer?.stop();
    dataDir.remove();
  });

  it('holds a publish pending and refuses approval by its requester', async () => {
    const run = await cli(
      ['config', 'publish', writeStack('pending', 'needs a second pair of eyes')],
      approvalServer,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Version 2 is waiting for approval/);
    const self = await cli(['config', 'approve', '2'], approvalServer);
    assert.equal(self.code, 4, 'a refused approval is a 403');
    assert.match(self.stderr, /publish\.self_approval/);
    const status = await cli(['--json', 'config', 'status'], approvalServer);
    const parsed = JSON.parse(status.stdout) as { active: { version: number }; pending: { version: number } };
    assert.equal(parsed.active.version, 1);
    assert.equal(parsed.pending.version, 2);
    const rejected = await cli(
      ['config', 'reject', '2', '--reason', 'no second admin today'],
      approvalServer,
    );
    assert.equal(rejected.code, 0, rejected.stderr);
  });
});
