/**
 * Field-level configuration diffs through a real vigosrv and the real bin/vigocli: the diff endpoint
 * (against the previous version or any other, bounded, with the envoys that change), `config show`,
 * `config publish --dry-run`, and `config rollback` with its preview, its confirmation and --yes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-diff-srv-');
const work = makeTempDir('vigo-diff-work-');
let server: ReadyServer;
let admin = '';

function writeStack(name: string, motd: string, extra = ''): string {
  const dir = join(work.path, name);
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-diff-motd\n    content: "${motd}"\n${extra}`,
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    configcrates: [motd]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function cli(args: string[]) {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', server.dataDir, ...args],
    cleanCliEnv(work.path, { FORCE_COLOR: '1' }),
    work.path,
  );
}

async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const reply = await server.request(path, { headers: { authorization: `Bearer ${admin}` } });
  return { status: reply.status, body: JSON.parse(reply.body) as T };
}

interface DiffBody {
  version: number;
  against: number | null;
  impact: {
    envoysTotal: number;
    envoysChanging: number;
    fields: {
      resources: {
        id: string;
        status: string;
        fields: { field: string; before?: string; after?: string }[];
      }[];
      resourcesOmitted: number;
    };
  };
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  admin = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const token = await createEnrollToken(server, ['web-*']);
  await enrollAgent(server, token, 'web-1');
  for (const [name, motd, extra] of [
    ['v2', 'one', ''],
    ['v3', 'two', '  - name: extra\n    type: file\n    target_path: /tmp/vigo-diff-extra\n    content: x\n'],
  ] as const) {
    const run = await cli(['config', 'publish', writeStack(name, motd, extra)]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  }
});

after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('GET /api/v1/config/versions/{n}/diff', () => {
  it('compares with the version before by default, field by field, with the envoys that change', async () => {
    const { status, body } = await api<DiffBody>('/api/v1/config/versions/3/diff');
    assert.equal(status, 200);
    assert.equal(body.against, 2);
    assert.equal(body.impact.envoysTotal, 1);
    assert.equal(body.impact.envoysChanging, 1);
    assert.deepEqual(
      body.impact.fields.resources.map((r) => `${r.status} ${r.id}`),
      ['added motd/extra', 'changed motd/motd'],
    );
    const motd = body.impact.fields.resources.find((r) => r.id === 'motd/motd')!;
    assert.deepEqual(motd.fields, [{ field: 'params.content', before: '"one"', after: '"two"' }]);
  });

  it('compares with any version named in against, in that direction', async () => {
    const { body } = await api<DiffBody>('/api/v1/config/versions/2/diff?against=3');
    assert.equal(body.against, 3);
    assert.deepEqual(
      body.impact.fields.resources.map((r) => `${r.status} ${r.id}`),
      ['removed motd/extra', 'changed motd/motd'],
    );
  });

  it('refuses an unknown version and a malformed against', async () => {
    const missing = await api<{ code: string }>('/api/v1/config/versions/3/diff?against=99');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'publish.version_not_found');
    const bad = await api<{ code: string }>('/api/v1/config/versions/3/diff?against=two');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'request.invalid');
  });
});

describe('vigocli config diffs', () => {
  it('config show prints the changed fields as - old / + new, without colour in a pipe', async () => {
    const run = await cli(['config', 'show', '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /~ changed file motd\/motd {2}\(1 entry: envoys\.vgo\[web-\*\]\)/);
    assert.match(run.stdout, /^ {4}params\.content\n {6}- "one"\n {6}\+ "two"$/m);
    assert.match(run.stdout, /^\+ added {3}file motd\/extra/m);
    assert.ok(!run.stdout.includes('\u001b['), 'no colour codes when stdout is not a terminal');
  });

  it('config publish --dry-run prints the field-level diff and changes nothing', async () => {
    const run = await cli(['config', 'publish', '--dry-run', writeStack('v4', 'three')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Envoys changing: 1 of 1/);
    assert.match(run.stdout, /^ {6}- "two"\n {6}\+ "three"$/m);
    assert.match(run.stdout, /^- removed file motd\/extra/m);
    const status = await api<{ active: { version: number } }>('/api/v1/config/status');
    assert.equal(status.body.active.version, 3);
  });

  it('config rollback --dry-run previews against the active version and changes nothing', async () => {
    const run = await cli(['config', 'rollback', '2', '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /Dry run: rolling back to version 2 \(from active version 3\) would change 1 of 1 envoy/,
    );
    assert.match(run.stdout, /^ {6}- "two"\n {6}\+ "one"$/m);
    const status = await api<{ active: { version: number } }>('/api/v1/config/status');
    assert.equal(status.body.active.version, 3);
  });

  it('config rollback asks for confirmation: without a terminal it needs --yes, then rolls back', async () => {
    const refused = await cli(['config', 'rollback', '2']);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /needs --yes when stdin is not a terminal/);
    assert.equal(
      (await api<{ active: { version: number } }>('/api/v1/config/status')).body.active.version,
      3,
    );
    const done = await cli(['config', 'rollback', '2', '--yes', '--message', 'back to one']);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /Rolled back: version 4 now serves the configuration of version 2/);
    const after4 = await api<DiffBody>('/api/v1/config/versions/4/diff?against=2');
    assert.deepEqual(after4.body.impact.fields.resources, [], 'version 4 is version 2 again');
  });
});
