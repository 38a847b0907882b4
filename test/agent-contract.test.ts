/**
 * The agent contract of agent.proto against the real vigosrv over mTLS, for what a client written from the
 * .proto alone may send: bytes that are not protobuf, payloads that break a documented limit, and the
 * CheckIn answers the .proto promises. Every refusal carries its status and stable code and stores nothing.
 */
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, errorCodeOf, signRequest } from '../protocol/index.ts';
import type { CheckInResponse, PayloadInit } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-contract-');
const clock = createEnvelopeClock();
let server: ReadyServer;
let token: string;
let web: EnrolledAgent;
before(async () => {
  server = await startServer({ dataDir: temp.path });
  token = await createEnrollToken(server, ['*.example.com'], 20);
  web = await enrollAgent(server, token, 'web-1.example.com');
});

async function admin(path: string, body: unknown): Promise<void> {
  const adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const reply = await server.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(reply.status === 200 || reply.status === 201, `${path}: ${reply.status} ${reply.body}`);
}

async function checkIn(agent: EnrolledAgent, payload: PayloadInit<'CheckIn'>): Promise<CheckInResponse> {
  const client = agentClient(server, agent);
  try {
    return await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
        hostname: agent.hostname,
        ...payload,
      }),
    );
  } finally {
    client.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; vigo: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    return statusOf(err as grpc.ServiceError);
  }
  throw new Error('the call succeeded but a refusal was expected');
}

interface BundleDocument {
  policy_version: number;
  merkle_root: string;
  secrets_epoch: number;
  resources: { params: Record<string, unknown> }[];
}

function documentOf(response: CheckInResponse): BundleDocument {
  assert.equal(response.outcome.case, 'bundle');
  return JSON.parse(Buffer.from(response.outcome.value.payload).toString('utf8')) as BundleDocument;
}

function storedCount(sql: string): number {
  const db = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}

function storedRuns(ids: string[]): string[] {
  const db = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
  try {
    const known = db.prepare('SELECT id FROM runs WHERE id = ?').pluck();
    return ids.filter((id) => known.get(id) !== undefined);
  } finally {
    db.close();
  }
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
after(async () => {
  await server?.stop();
  temp.remove();
});

function rawClient(agent: EnrolledAgent): grpc.Client {
  return new grpc.Client(
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createSsl(
      Buffer.from(server.ca),
      Buffer.from(agent.tlsKeyPem),
      Buffer.from(agent.certPem),
    ),
  );
}

const same = (bytes: Buffer): Buffer => bytes;
const payloadInvalid = { code: grpc.status.INVALID_ARGUMENT, vigo: 'checkin.payload_invalid' };

function statusOf(err: grpc.ServiceError | grpc.StatusObject | null): {
  code: number;
  vigo: string | undefined;
} {
  assert.ok(err !== null, 'the call was refused');
  return { code: err.code, vigo: errorCodeOf(err) };
}

describe('bytes that are not protobuf', () => {
  const garbage = Buffer.from([0xff, 0xff, 0xff]);

  it('answer INVALID_ARGUMENT checkin.payload_invalid on every unary RPC, never INTERNAL', async () => {
    const client = rawClient(web);
    try {
      for (const rpc of ['CheckIn', 'ReportResults', 'ResolveSecrets']) {
        const err = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest(`/vigo.agent.v1.VigoAgent/${rpc}`, same, same, garbage, (e) => resolve(e)),
        );
        assert.deepEqual(statusOf(err), payloadInvalid, rpc);
      }
    } finally {
      client.close();
    }
  });

  it('end an AgentStream with INVALID_ARGUMENT checkin.payload_invalid', async () => {
    const client = rawClient(web);
    try {
      const stream = client.makeBidiStreamRequest('/vigo.agent.v1.VigoAgent/AgentStream', same, same);
      const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.on('error', () => undefined);
      stream.write(garbage);
      assert.deepEqual(statusOf(await ended), payloadInvalid);
    } finally {
      client.close();
    }
  });
});

describe('CheckIn', () => {
  let tpl: EnrolledAgent;
  let stray: EnrolledAgent;
  let heavy: EnrolledAgent;

  before(async () => {
    tpl = await enrollAgent(server, token, 'tpl-1.example.com');
    stray = await enrollAgent(server, token, 'stray-1.example.com');
    heavy = await enrollAgent(server, token, 'heavy-1.example.com');
    const files: Record<string, string> = {
      'configcrates/heavy.vgo':
        'name: heavy\nresources:\n  - name: grid\n    type: file\n    target_path: /tmp/vigo-contract-grid\n    content: "{{ range .Traits.items }}{{ range .Traits.items }}x{{ end }}{{ end }}"\n',
      'configcrates/plain.vgo':
        'name: plain\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-contract-plain\n    content: "hello"\n',
      'configcrates/rendered.vgo':
        'name: rendered\nresources:\n  - name: os\n    type: file\n    target_path: /tmp/vigo-contract-os\n    content: "os {{ .Traits.os.family }}"\n',
      'roles.vgo':
        'roles:\n  plain:\n    configcrates: [plain]\n  rendered:\n    configcrates: [rendered]\n  heavy:\n    configcrates: [heavy]\n',
      'envoys.vgo':
        'envoys:\n  - match: "web-*"\n    roles: [plain]\n  - match: "tpl-*"\n    roles: [rendered]\n  - match: "heavy-*"\n    roles: [heavy]\n',
    };
    await admin('/api/v1/secrets', { path: 'contract/unused', value: 'moves the secrets epoch' });
    await admin('/api/v1/config/publish', {
      files: Object.entries(files).map(([path, content]) => ({ path, content })),
      message: 'contract test',
    });
  });

  it('gives a fresh agent (policy_version 0) its bundle, even when its fingerprint matches', async () => {
    const first = documentOf(await checkIn(web, {}));
    const epoch = BigInt(first.secrets_epoch);
    const fresh = await checkIn(web, {
      policyVersion: 0n,
      stateFingerprint: first.merkle_root,
      secretsEpoch: epoch,
    });
    assert.equal(fresh.outcome.case, 'bundle');
    const holding = await checkIn(web, {
      policyVersion: BigInt(first.policy_version),
      stateFingerprint: first.merkle_root,
      secretsEpoch: epoch,
    });
    assert.equal(holding.outcome.case, 'noChange');
  });

  it("counts the agent's secrets_epoch in no-change: another epoch gets the bundle", async () => {
    const first = documentOf(await checkIn(web, {}));
    assert.ok(first.secrets_epoch > 0, 'setting a secret moved the epoch');
    const stale = await checkIn(web, {
      policyVersion: BigInt(first.policy_version),
      stateFingerprint: first.merkle_root,
      secretsEpoch: BigInt(first.secrets_epoch - 1),
    });
    assert.equal(stale.outcome.case, 'bundle');
  });

  it('answers with the secrets_epoch of the bundle it sends, on a matched and an unmatched host', async () => {
    for (const agent of [web, stray]) {
      const response = await checkIn(agent, {});
      assert.equal(BigInt(documentOf(response).secrets_epoch), response.secretsEpoch, agent.hostname);
    }
  });

  it('asks for traits instead of signing a bundle built without them when traits_hash is empty', async () => {
    const ask = await checkIn(tpl, { traitsHash: '' });
    assert.equal(ask.sendTraits, true);
    assert.equal(ask.outcome.case, 'noChange');
    const traits = Buffer.from(JSON.stringify({ os: { family: 'debian' } }));
    const sent = await checkIn(tpl, { traitsHash: sha256(traits), traitsJson: traits });
    assert.equal(sent.sendTraits, false);
    assert.equal(documentOf(sent).resources[0]?.params['content'], 'os debian');
  });

  it('answers a bundle its traits make too costly to render with a stable code, not INTERNAL', async () => {
    const traits = Buffer.from(JSON.stringify({ items: Array.from({ length: 1000 }, (_, i) => i) }));
    const refused = await refusal(checkIn(heavy, { traitsHash: sha256(traits), traitsJson: traits }));
    assert.deepEqual(refused, { code: grpc.status.FAILED_PRECONDITION, vigo: 'checkin.bundle_unavailable' });
    // Other envoys are served as before.
    assert.equal((await checkIn(web, {})).outcome.case, 'bundle');
  });

  it('refuses traits_json that is not a JSON object, and stores none of it', async () => {
    for (const text of ['{"os": ', '[1, 2]', 'null']) {
      const traits = Buffer.from(text);
      const hash = sha256(traits);
      assert.deepEqual(
        await refusal(checkIn(web, { traitsHash: hash, traitsJson: traits })),
        payloadInvalid,
        text,
      );
      const after = await checkIn(web, { traitsHash: hash });
      assert.equal(after.sendTraits, true, `the server still has no traits with the hash of ${text}`);
    }
  });

  it('refuses fields beyond their documented limits', async () => {
    for (const payload of [
      { agentVersion: 'v'.repeat(65) },
      { hostname: 'h'.repeat(254) },
      { stateFingerprint: 'not-a-digest' },
      { traitsHash: 'ABC' },
      { traceparent: 't'.repeat(129) },
    ]) {
      assert.deepEqual(await refusal(checkIn(web, payload)), payloadInvalid, Object.keys(payload)[0]);
    }
  });
});

describe('ReportResults', () => {
  const run = (fields: Record<string, unknown> = {}) => ({
    runId: randomUUID(),
    policyVersion: 1n,
    startedAtMs: BigInt(Date.now() - 100),
    finishedAtMs: BigInt(Date.now()),
    results: [{ resourceId: 'plain/motd', resourceType: 'file', outcome: ResourceOutcome.NONE }],
    ...fields,
  });

  async function report(runs: ReturnType<typeof run>[]) {
    const client = agentClient(server, web);
    try {
      return await client.methods.reportResults(
        signRequest('ReportResults', web.signingKey, web.envoyId, clock(), { runs }),
      );
    } finally {
      client.close();
    }
  }

  it('rejects each invalid run alone and stores the good runs of the same call', async () => {
    const good = [run(), run()];
    const bad = [
      run({
        results: [{ resourceId: 'plain/motd', resourceType: 'file', outcome: ResourceOutcome.UNSPECIFIED }],
      }),
      run({ runId: 'not-a-uuid-at-all' }),
      run({ finishedAtMs: 1n }),
    ];
    const ack = await report([good[0]!, ...bad, good[1]!]);
    assert.deepEqual([...ack.acceptedRunIds].sort(), good.map((r) => r.runId).sort());
    assert.deepEqual([...ack.rejectedRunIds].sort(), bad.map((r) => r.runId).sort());
    assert.equal(ack.retryAfterMs, 0);
    const ids = [...good, ...bad].map((r) => r.runId);
    assert.deepEqual(storedRuns(ids).sort(), good.map((r) => r.runId).sort());
  });

  it('refuses a call with no runs or more than 100 as a whole, storing nothing', async () => {
    assert.deepEqual(await refusal(report([])), payloadInvalid);
    const many = Array.from({ length: 101 }, () => run());
    assert.deepEqual(await refusal(report(many)), payloadInvalid);
    assert.deepEqual(storedRuns(many.map((r) => r.runId)), []);
  });
});

describe('ResolveSecrets', () => {
  async function resolve(refs: string[]) {
    const client = agentClient(server, web);
    try {
      return await client.methods.resolveSecrets(
        signRequest('ResolveSecrets', web.signingKey, web.envoyId, clock(), { refs }),
      );
    } finally {
      client.close();
    }
  }

  it('refuses anything but 1..256 distinct references of 1..512 bytes, auditing nothing', async () => {
    const auditedBefore = storedCount("SELECT count(*) FROM audit_log WHERE action = 'secrets.denied'");
    for (const [what, refs] of [
      ['no reference', []],
      ['257 references', Array.from({ length: 257 }, (_, i) => `app/ref-${i}`)],
      ['a duplicate', ['app/a', 'app/b', 'app/a']],
      ['an empty reference', ['']],
      ['a reference over 512 bytes', ['r'.repeat(513)]],
    ] as const) {
      assert.deepEqual(await refusal(resolve([...refs])), payloadInvalid, what);
    }
    assert.equal(
      storedCount("SELECT count(*) FROM audit_log WHERE action = 'secrets.denied'"),
      auditedBefore,
      'a refused payload is not judged for entitlement',
    );
  });
});

describe('AgentStream', () => {
  type Stream = ReturnType<ReturnType<typeof agentClient>['methods']['agentStream']>;

  function ended(stream: Stream, withinMs = 10_000): Promise<grpc.StatusObject> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the stream did not end within ${withinMs} ms`)),
        withinMs,
      );
      stream.on('status', (s: grpc.StatusObject) => {
        clearTimeout(timer);
        resolve(s);
      });
      stream.on('error', () => undefined);
    });
  }

  function say(stream: Stream, kind: PayloadInit<'AgentStream'>['kind']): void {
    stream.write(signRequest('AgentStream', web.signingKey, web.envoyId, clock(), { kind }));
  }
  const hello = { case: 'hello', value: { agentVersion: 'test' } } as const;

  it('ends a stream whose first message is not Hello with stream.hello_required', async () => {
    const client = agentClient(server, web);
    try {
      const stream = client.methods.agentStream();
      const status = ended(stream);
      say(stream, { case: 'heartbeat', value: {} });
      assert.deepEqual(statusOf(await status), {
        code: grpc.status.INVALID_ARGUMENT,
        vigo: 'stream.hello_required',
      });
    } finally {
      client.close();
    }
  });

  it('bounds the streams a client certificate holds before their Hello, and keeps one stream per envoy', async () => {
    const client = agentClient(server, web);
    try {
      const waiting = Array.from({ length: 4 }, () => client.methods.agentStream());
      const endings = waiting.map((stream) => ended(stream, 60_000));
      const fifth = client.methods.agentStream();
      assert.deepEqual(statusOf(await ended(fifth)), {
        code: grpc.status.RESOURCE_EXHAUSTED,
        vigo: 'stream.pending_limit',
      });

      say(waiting[0]!, hello);
      // Its Hello frees a place: a new stream is admitted and, by its own Hello, replaces it.
      const admitted = await waitFor('a stream to be admitted after another said Hello', async () => {
        const next = client.methods.agentStream();
        const refused = ended(next, 60_000);
        say(next, hello);
        const first = await Promise.race([
          refused.then(() => 'refused' as const),
          endings[0]!.then(() => 'replaced' as const),
        ]);
        return first === 'replaced' ? next : undefined;
      });
      assert.deepEqual(
        statusOf(await endings[0]!),
        { code: grpc.status.ABORTED, vigo: 'stream.replaced' },
        'the newer stream of the envoy replaced the older',
      );
      for (const stream of [...waiting, admitted]) stream.cancel();
    } finally {
      client.close();
    }
  });
});
