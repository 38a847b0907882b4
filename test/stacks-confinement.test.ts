/**
 * `source:` stays inside the stacks tree on a real vigosrv: an upload naming `../../tls/ca.key` (the
 * upload's scratch dir lives under the data dir) and a `--stacks .`-style tree whose data dir `.vigo`
 * sits inside it are both refused with source.outside_stacks; nothing is published and the CA key
 * reaches no response, log line or bundle.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

interface Diagnostic {
  code: string;
  file: string;
  line: number;
  col: number;
  severity: string;
}

function crate(source: string): string {
  return (
    'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/motd\n' +
    `    source: ${source}\n`
  );
}
const roles = 'roles:\n  base:\n    configcrates: [motd]\n';
const envoys = 'envoys:\n  - match: "web-*"\n    roles: [base]\n';

function caKeyBody(server: ReadyServer): string {
  const pem = readFileSync(join(server.dataDir, 'tls', 'ca.key'), 'utf8');
  const body = pem.split('\n').find((l) => l.length > 40 && !l.startsWith('-----'));
  assert.ok(body, 'the CA key has a base64 body');
  return body;
}

function adminHeaders(server: ReadyServer): Record<string, string> {
  const token = readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

async function activeVersion(server: ReadyServer): Promise<number> {
  const reply = await server.request('/api/v1/config/version', { headers: adminHeaders(server) });
  assert.equal(reply.status, 200, reply.body);
  return reply.json<{ version: number }>().version;
}

async function bundleText(server: ReadyServer): Promise<string> {
  const token = await createEnrollToken(server, ['web-*']);
  const agent = await enrollAgent(server, token, 'web-1');
  const client = agentClient(server, agent);
  try {
    const response = await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, createEnvelopeClock()(), {
        agentVersion: 'test',
        hostname: agent.hostname,
        policyVersion: 0n,
        stateFingerprint: '',
      }),
    );
    assert.equal(response.outcome.case, 'bundle');
    return Buffer.from(response.outcome.value.payload).toString('utf8');
  } finally {
    client.close();
  }
}

describe('upload mode: source: cannot climb out of the scratch dir into the data dir', () => {
  const temp = makeTempDir('vigo-confine-upload-');
  let server: ReadyServer;
  before(async () => {
    server = await startServer({ dataDir: temp.path });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  const files = [
    { path: 'configcrates/motd.vgo', content: crate('../../tls/ca.key') },
    { path: 'roles.vgo', content: roles },
    { path: 'envoys.vgo', content: envoys },
  ];

  it('validate reports source.outside_stacks at the source: value', async () => {
    const reply = await server.request('/api/v1/config/validate', {
      method: 'POST',
      headers: adminHeaders(server),
      body: JSON.stringify({ files }),
    });
    assert.equal(reply.status, 200, reply.body);
    const report = reply.json<{ ok: boolean; diagnostics: Diagnostic[] }>();
    assert.equal(report.ok, false);
    const refused = report.diagnostics.filter((d) => d.code === 'source.outside_stacks');
    assert.deepEqual(
      refused.map((d) => [d.severity, d.file, d.line, d.col]),
      [['error', 'configcrates/motd.vgo', 6, 13]],
    );
    assert.ok(!reply.body.includes(caKeyBody(server)));
  });

  it('publish is refused, nothing is activated, and the CA key reaches no envoy', async () => {
    const before = await activeVersion(server);
    const reply = await server.request('/api/v1/config/publish', {
      method: 'POST',
      headers: adminHeaders(server),
      body: JSON.stringify({ files }),
    });
    assert.equal(reply.status, 400, reply.body);
    const body = reply.json<{ code: string; diagnostics: Diagnostic[] }>();
    assert.equal(body.code, 'publish.stacks_invalid');
    assert.ok(body.diagnostics.some((d) => d.code === 'source.outside_stacks'));
    assert.equal(await activeVersion(server), before);
    const key = caKeyBody(server);
    assert.ok(!reply.body.includes(key));
    assert.ok(!(await bundleText(server)).includes(key));
    assert.ok(!server.stderr().includes(key));
  });
});

describe('directory mode: a data dir inside the stacks tree is never read', () => {
  // `--stacks .` run from a directory whose user-mode data dir is ./.vigo
  const root = makeTempDir('vigo-confine-dir-');
  let server: ReadyServer;
  before(async () => {
    for (const [rel, text] of Object.entries({
      'configcrates/motd.vgo': crate('.vigo/tls/ca.key'),
      'roles.vgo': roles,
      'envoys.vgo': envoys,
    })) {
      mkdirSync(join(root.path, rel, '..'), { recursive: true });
      writeFileSync(join(root.path, rel), text);
    }
    mkdirSync(join(root.path, '.vigo'), { mode: 0o700 });
    server = await startServer({
      dataDir: join(root.path, '.vigo'),
      args: ['--stacks', root.path, '--publish-at-start'],
    });
  });
  after(async () => {
    await server?.stop();
    root.remove();
  });

  it('the start-up publish is refused with source.outside_stacks and nothing is served', async () => {
    const error = server.logs.find((l) => l.msg === 'stacks error');
    assert.equal(error?.['code'], 'source.outside_stacks', JSON.stringify(server.logs.slice(-5)));
    assert.equal(error?.['file'], 'configcrates/motd.vgo:6:13');
    assert.ok(
      server.logs.some((l) => l.msg === 'start-up publish refused; still serving the active configuration'),
    );
    assert.equal(await activeVersion(server), 1);
    const key = caKeyBody(server);
    assert.ok(!(await bundleText(server)).includes(key));
    assert.ok(!server.stderr().includes(key));
  });
});
