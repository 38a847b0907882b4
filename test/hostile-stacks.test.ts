/**
 * Hostile stacks against a real vigosrv: a merge-key bomb, a foreach over 3 × 440,000 items, 200,000
 * nested "[" and a stack that exhausts the validator's heap, each sent to /api/v1/config/validate and
 * /publish. Validation runs in the validator worker, so while each is in flight /healthz and signed
 * check-ins keep being answered; each hostile request gets its stable code; the server stays up and a
 * normal publish then reaches an envoy. The longest /healthz answer during each one is printed (a
 * figure, never asserted).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { httpsRequest } from './helpers/https-client.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { heapHungryStack, mergeBombYaml } from '../server/policy/hostile.fixture.ts';

interface StackFile {
  path: string;
  content: string;
}

const temp = makeTempDir('vigo-hostile-');
let server: ReadyServer;
let agent: EnrolledAgent;
const clock = createEnvelopeClock();

/**
 * A legitimate tree that takes the validator about a second, sent with every hostile file: it keeps each
 * request in flight long enough to watch the server answer others meanwhile.
 */
function padding(): StackFile[] {
  const crates = 300;
  const files: StackFile[] = [];
  for (let i = 0; i < crates; i++)
    files.push({
      path: `configcrates/pad-${i}.vgo`,
      content:
        `name: pad-${i}\nresources:\n  - name: conf\n    type: file\n    target_path: /etc/pad${i}.conf\n` +
        `    content: "port {{ .Vars.port }} tag {{ .Vars.tag }}"\n  - name: dir\n    type: directory\n    target_path: /var/lib/pad${i}\n`,
    });
  files.push({ path: 'common.vgo', content: 'vars:\n  port: "80"\n  tag: none\n' });
  const lines = ['envoys:'];
  for (let e = 0; e < 2500; e++)
    lines.push(
      `  - match: "pad-${e}.example"`,
      `    configcrates: [pad-${e % crates}, pad-${(e + 1) % crates}]`,
      `    vars: { tag: "t${e}" }`,
    );
  files.push({ path: 'pad/hosts.vgo', content: lines.join('\n') + '\n' });
  return files;
}

function foreachBlowUp(): StackFile[] {
  const list = `[${Array.from({ length: 440_000 }, (_, i) => i).join(', ')}]`;
  const resource = (n: number): string =>
    `  - name: "f${n}-{{ .Item }}"\n    type: directory\n    foreach: items${n}\n    target_path: "/srv/${n}/{{ .Item }}"\n`;
  // Each list alone is ~3 MB; nested common.vgo files all apply to the hosts below them.
  return [
    { path: 'blowup/common.vgo', content: `vars:\n  items1: ${list}\n` },
    { path: 'blowup/b/common.vgo', content: `vars:\n  items2: ${list}\n` },
    { path: 'blowup/b/c/common.vgo', content: `vars:\n  items3: ${list}\n` },
    {
      path: 'configcrates/blowup.vgo',
      content: `name: blowup\nresources:\n${resource(1)}${resource(2)}${resource(3)}`,
    },
    { path: 'blowup/b/c/hosts.vgo', content: 'envoys:\n  - match: "blowup-*"\n    configcrates: [blowup]\n' },
  ];
}

function nested(): StackFile[] {
  return [{ path: 'nested/hosts.vgo', content: `envoys: ${'['.repeat(200_000)}\n` }];
}

function adminHeaders(): Record<string, string> {
  const token = readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

interface Sent {
  /** Settles once the whole body has been handed to the network: from then on the server holds it. */
  sent: Promise<void>;
  response: Promise<HttpsResponse>;
}

function post(route: string, files: StackFile[]): Sent {
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const response = httpsRequest(`${server.apiUrl}/api/v1/config/${route}`, {
    method: 'POST',
    ca: server.ca,
    headers: adminHeaders(),
    body: JSON.stringify({ files }),
    onSent: markSent,
  });
  return { sent, response };
}

async function checkIn(): Promise<void> {
  const client = agentClient(server, agent);
  try {
    await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
        agentVersion: 'test',
        hostname: agent.hostname,
        policyVersion: 0n,
        stateFingerprint: '',
      }),
    );
  } finally {
    client.close();
  }
}

interface Observed {
  response: HttpsResponse;
  healthzDuringFlight: number;
  checkInsDuringFlight: number;
  maxHealthzMs: number;
}

/**
 * Sends one request and, until it is answered, polls /healthz and checks in, one after the other.
 * Counted are the ones started after the body was sent and answered before the response: answered
 * while the server was working on it.
 */
async function whileInFlight(request: Sent): Promise<Observed> {
  let sent = false;
  let settled = false;
  void request.sent.then(() => (sent = true));
  const done = request.response.finally(() => {
    settled = true;
  });
  let healthz = 0;
  let checkIns = 0;
  let maxHealthzMs = 0;
  const pollHealthz = async (): Promise<void> => {
    while (!settled) {
      const counts = sent;
      const started = performance.now();
      const reply = await server.request('/healthz');
      const elapsed = performance.now() - started;
      assert.equal(reply.status, 200);
      if (counts && !settled) {
        healthz++;
        maxHealthzMs = Math.max(maxHealthzMs, elapsed);
      }
    }
  };
  const keepCheckingIn = async (): Promise<void> => {
    while (!settled) {
      const counts = sent;
      await checkIn();
      if (counts && !settled) checkIns++;
    }
  };
  const [response] = await Promise.all([done, pollHealthz(), keepCheckingIn()]);
  return { response, healthzDuringFlight: healthz, checkInsDuringFlight: checkIns, maxHealthzMs };
}

function diagnosticCodes(body: string): string[] {
  return (JSON.parse(body) as { diagnostics?: { code: string }[] }).diagnostics?.map((d) => d.code) ?? [];
}

function report(t: TestContext, what: string, seen: Observed): void {
  t.diagnostic(
    `${what}: ${seen.healthzDuringFlight} /healthz and ${seen.checkInsDuringFlight} check-ins answered in flight; ` +
      `longest /healthz ${seen.maxHealthzMs.toFixed(1)} ms`,
  );
  assert.ok(seen.healthzDuringFlight > 0, `${what}: no /healthz was answered while it was validated`);
  assert.ok(seen.checkInsDuringFlight > 0, `${what}: no check-in was answered while it was validated`);
}

before(async () => {
  server = await startServer({
    dataDir: temp.path,
    env: { VIGO_PUBLISH_VALIDATE_MAX_HEAP_MB: '512', VIGO_PUBLISH_VALIDATE_TIMEOUT: '120s' },
  });
  agent = await enrollAgent(server, await createEnrollToken(server, ['web-*']), 'web-1');
});
after(async () => {
  await server?.stop();
  temp.remove();
});

const hostile: { name: string; files: () => StackFile[]; code: string }[] = [
  {
    name: 'merge-key bomb',
    files: () => [{ path: 'bomb/common.vgo', content: mergeBombYaml() }],
    code: 'yaml.alias_limit',
  },
  { name: 'foreach over 3 × 440,000 items', files: foreachBlowUp, code: 'foreach.too_many_items' },
  { name: '200,000 nested "["', files: nested, code: 'yaml.too_deep' },
];

describe('hostile stacks are validated off the event loop', () => {
  for (const h of hostile) {
    it(`${h.name}: validate and publish answer ${h.code} while /healthz and check-ins keep answering`, async (t) => {
      const files = [...padding(), ...h.files()];
      const validated = await whileInFlight(post('validate', files));
      assert.equal(validated.response.status, 200, validated.response.body.slice(0, 500));
      assert.equal(validated.response.json<{ ok: boolean }>().ok, false);
      assert.ok(
        diagnosticCodes(validated.response.body).includes(h.code),
        validated.response.body.slice(0, 500),
      );
      report(t, `validate, ${h.name}`, validated);

      const published = await whileInFlight(post('publish', files));
      assert.equal(published.response.status, 400, published.response.body.slice(0, 500));
      assert.equal(published.response.json<{ code: string }>().code, 'publish.stacks_invalid');
      assert.ok(diagnosticCodes(published.response.body).includes(h.code));
      report(t, `publish, ${h.name}`, published);
    });
  }

  it('a stack that exhausts the validator heap is refused with publish.validator_out_of_memory', async (t) => {
    for (const route of ['validate', 'publish']) {
      const seen = await whileInFlight(post(route, heapHungryStack(200)));
      assert.equal(seen.response.status, 413, seen.response.body.slice(0, 500));
      assert.equal(seen.response.json<{ code: string }>().code, 'publish.validator_out_of_memory');
      report(t, `${route}, heap exhaustion`, seen);
    }
  });

  it('afterwards the server is alive, nothing was published, and a normal publish reaches the envoy', async () => {
    assert.equal((await server.request('/healthz')).status, 200);
    const version = await server.request('/api/v1/config/version', { headers: adminHeaders() });
    assert.equal(version.json<{ version: number }>().version, 1, 'no hostile publish was activated');
    const good = await post('publish', [
      {
        path: 'configcrates/motd.vgo',
        content:
          'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/motd\n    content: after\n',
      },
      { path: 'envoys.vgo', content: 'envoys:\n  - match: "web-*"\n    configcrates: [motd]\n' },
    ]).response;
    assert.equal(good.status, 201, good.body);
    const client = agentClient(server, agent);
    try {
      const response = await client.methods.checkIn(
        signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
          agentVersion: 'test',
          hostname: agent.hostname,
          policyVersion: 0n,
          stateFingerprint: '',
        }),
      );
      assert.equal(response.outcome.case, 'bundle');
      assert.match(Buffer.from(response.outcome.value.payload).toString('utf8'), /"content":"after"/);
    } finally {
      client.close();
    }
    assert.equal(server.exitCode(), undefined, 'vigosrv is still running');
  });
});

describe('drain', () => {
  it('SIGTERM stops a validation in flight: it is answered 503 unavailable and the server exits 0', async () => {
    const request = post('validate', [...padding(), ...foreachBlowUp()]);
    await request.sent;
    server.child.kill('SIGTERM');
    const [response, code] = await Promise.all([request.response, server.exited()]);
    assert.equal(response.status, 503, response.body.slice(0, 300));
    assert.equal(response.json<{ code: string }>().code, 'unavailable');
    assert.equal(code, 0);
  });
});
