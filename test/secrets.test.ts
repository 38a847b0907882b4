/**
 * Secrets end to end: set through vigocli (stdin), referenced by a published stack, served to the
 * entitled envoy only through ResolveSecrets — and the plaintext nowhere else: not in bundles, results,
 * database files, other files under the data dir, or the server's logs.
 */
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, errorCodeOf, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-secrets-srv-');
const work = makeTempDir('vigo-secrets-work-');
const plaintext = `plaintext-${randomBytes(12).toString('hex')}`;
const clock = createEnvelopeClock();
let server: ReadyServer;
let web: EnrolledAgent;
let db: EnrolledAgent;

function cli(args: string[], input = '') {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', server.dataDir, ...args],
    cleanCliEnv(work.path),
    work.path,
    input,
  );
}

function writeStack(): string {
  const dir = join(work.path, 'stack');
  const files: Record<string, string> = {
    'configcrates/app.vgo':
      'name: app\nresources:\n  - name: dsn\n    type: file\n    target_path: /tmp/vigo-secret-test\n    mode: "0600"\n    content: "password=secret:db/password"\n',
    'configcrates/plain.vgo':
      'name: plain\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-plain-test\n    content: "hello"\n',
    'roles.vgo': 'roles:\n  app:\n    configcrates: [app]\n  plain:\n    configcrates: [plain]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [app]\n  - match: "db-*"\n    roles: [plain]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function resolveAs(agent: EnrolledAgent, refs: string[]) {
  const client = agentClient(server, agent);
  return client.methods
    .resolveSecrets(signRequest('ResolveSecrets', agent.signingKey, agent.envoyId, clock(), { refs }))
    .finally(() => client.close());
}

async function refusalOf(promise: Promise<unknown>): Promise<{ code: number; vigo: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, vigo: errorCodeOf(err as grpc.ServiceError) };
  }
  throw new Error('expected a refusal');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? filesUnder(p) : d.isFile() ? [p] : [];
  });
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  const token = await createEnrollToken(server, ['web-*', 'db-*']);
  web = await enrollAgent(server, token, 'web-1');
  db = await enrollAgent(server, token, 'db-1');
});
after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('secrets', () => {
  let bundleBytes = Buffer.alloc(0);

  it('a stack referencing a missing secret does not publish', async () => {
    const run = await cli(['config', 'publish', writeStack()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /db\/password/);
  });

  it('is set from stdin, listed without its value, and published as a marker', async () => {
    const set = await cli(['secrets', 'set', 'db/password'], `${plaintext}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Created secret db\/password \(version 1\)/);
    const listed = await cli(['secrets', 'list']);
    assert.match(listed.stdout, /db\/password\s+1/);
    assert.doesNotMatch(listed.stdout, new RegExp(plaintext));
    const published = await cli(['config', 'publish', writeStack()]);
    assert.equal(published.code, 0, published.stderr);

    const client = agentClient(server, web);
    try {
      const response = await client.methods.checkIn(
        signRequest('CheckIn', web.signingKey, web.envoyId, clock(), { hostname: web.hostname }),
      );
      assert.equal(response.outcome.case, 'bundle');
      bundleBytes = Buffer.from(response.outcome.value.payload);
    } finally {
      client.close();
    }
    const document = JSON.parse(bundleBytes.toString()) as {
      secret_paths: string[];
      resources: { params: { content: string } }[];
    };
    assert.deepEqual(document.secret_paths, ['db/password']);
    assert.match(document.resources[0]?.params.content ?? '', /__VIGO_SECRET__db\/password__END__/);
    assert.equal(bundleBytes.includes(plaintext), false, 'the bundle carries a marker, not the value');
  });

  it('resolves only for the envoy whose bundle references it', async () => {
    const resolved = await resolveAs(web, ['db/password']);
    assert.equal(Buffer.from(resolved.values['db/password'] ?? new Uint8Array()).toString(), plaintext);
    assert.ok(resolved.secretsEpoch > 0n);

    assert.deepEqual(await refusalOf(resolveAs(db, ['db/password'])), {
      code: grpc.status.PERMISSION_DENIED,
      vigo: 'secrets.not_entitled',
    });
    assert.deepEqual(await refusalOf(resolveAs(web, ['db/password', 'other/secret'])), {
      code: grpc.status.PERMISSION_DENIED,
      vigo: 'secrets.not_entitled',
    });
  });

  it('never writes the plaintext to results, database files, the data dir or logs', async () => {
    const client = agentClient(server, web);
    try {
      await client.methods.reportResults(
        signRequest('ReportResults', web.signingKey, web.envoyId, clock(), {
          runs: [
            {
              runId: 'run-secret-1',
              policyVersion: 2n,
              startedAtMs: BigInt(Date.now() - 10),
              finishedAtMs: BigInt(Date.now()),
              results: [
                {
                  resourceId: 'app/dsn',
                  resourceType: 'file',
                  configcrate: 'app',
                  outcome: ResourceOutcome.CREATED,
                  message: 'content written',
                  durationMs: 3,
                },
              ],
            },
          ],
        }),
      );
    } finally {
      client.close();
    }
    assert.equal(await server.stop(), 0);
    const needles = [
      plaintext,
      Buffer.from(plaintext).toString('base64'),
      Buffer.from(plaintext).toString('hex'),
    ];
    for (const file of filesUnder(serverDir.path)) {
      if (statSync(file).size > 512 * 1024 * 1024) continue;
      const bytes = readFileSync(file);
      for (const needle of needles)
        assert.equal(bytes.includes(needle), false, `${file} contains the secret`);
    }
    const database = new Database(join(serverDir.path, 'db', 'vigo.db'), { readonly: true });
    try {
      const denied = database
        .prepare("SELECT actor, details FROM audit_log WHERE action = 'secrets.denied' ORDER BY seq")
        .all() as { actor: string; details: string }[];
      assert.equal(denied.length, 2, 'each refused request is audited');
      assert.equal(denied[0]?.actor, `envoy:${db.envoyId}`);
      assert.deepEqual((JSON.parse(denied[1]?.details ?? '{}') as { refs: string[] }).refs, ['other/secret']);
      const created = database
        .prepare("SELECT count(*) FROM audit_log WHERE action = 'secrets.created'")
        .pluck()
        .get();
      assert.equal(created, 1);
    } finally {
      database.close();
    }
    for (const needle of needles) {
      assert.equal(server.stdout().includes(needle), false, 'server stdout contains the secret');
      assert.equal(server.stderr().includes(needle), false, 'server stderr contains the secret');
    }
  });
});
