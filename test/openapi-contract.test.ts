/**
 * The OpenAPI document is a contract: a real server's answers, success and refusal alike, must match the
 * schema the document gives for that route and status, and every refusal's code must be one the document
 * lists there. Driven through enrollment and the whole publish pipeline (validate, dry run, publish,
 * approve, reject, rollback, freeze, unfreeze) with two-person approval on.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ResourceOutcome, createEnvelopeClock, rawFromPublicKey, signRequest } from '../protocol/index.ts';
import { generateAgentKeyAndCsr } from '../server/pki/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-openapi-contract-');
let server: ReadyServer;
let localAdmin: string;
let secondAdmin: string;
let openApi: { paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });

before(async () => {
  server = await startServer({ dataDir: temp.path, env: { VIGO_PUBLISH_APPROVAL: 'required' } });
  localAdmin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const user = await call(localAdmin, 'POST', '/api/v1/users', { username: 'second', role: 'admin' });
  assert.equal(user.status, 201, user.body);
  const token = await call(localAdmin, 'POST', '/api/v1/tokens', { name: 'contract', user: 'second' });
  assert.equal(token.status, 201, token.body);
  secondAdmin = token.json<{ token: string }>().token;
  const doc = await call(localAdmin, 'GET', '/api/v1/openapi.json');
  openApi = doc.json();
});

after(async () => {
  await server?.stop();
  temp.remove();
});

function call(
  bearer: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpsResponse> {
  return server.request(path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Asserts `reply` is what the document promises for `method path` at its status; returns the body. */
function conforms<T>(method: string, path: string, reply: HttpsResponse): T {
  const operation = openApi.paths[path]?.[method.toLowerCase()];
  assert.ok(operation, `the document describes ${method} ${path}`);
  const response = operation.responses[String(reply.status)];
  assert.ok(
    response,
    `${method} ${path} documents status ${reply.status} (body: ${reply.body.slice(0, 300)})`,
  );
  const schema = response.content?.['application/json']?.schema;
  assert.ok(schema, `${method} ${path} ${reply.status} has a JSON schema`);
  const validate = ajv.compile({ ...schema, components: openApi.components });
  const body = reply.json<T>();
  assert.ok(
    validate(body),
    `${method} ${path} ${reply.status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${reply.body.slice(0, 500)}`,
  );
  return body;
}

function stack(content: string, extra: Record<string, string> = {}): { path: string; content: string }[] {
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-contract-motd\n    content: "${content}"\n`,
    'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [base]\n',
    ...extra,
  };
  return Object.entries(files).map(([path, text]) => ({ path, content: text }));
}

async function enrollBody(
  token: string,
  hostname: string,
  publicKey?: string,
): Promise<Record<string, string>> {
  const { csrPem } = await generateAgentKeyAndCsr(hostname);
  return {
    token,
    hostname,
    publicKey: publicKey ?? rawFromPublicKey(generateKeyPairSync('ed25519').publicKey).toString('base64'),
    csr: csrPem,
  };
}

describe('the OpenAPI document as a contract', () => {
  it('describes enrollment: the full reply, and each refusal under a status that lists its code', async () => {
    const token = await createEnrollToken(server, ['web-*'], 5);
    const path = '/api/v1/enroll';
    const ok = conforms<{ envoyId: string }>(
      'POST',
      path,
      await call(undefined, 'POST', path, await enrollBody(token, 'web-1')),
    );
    assert.match(ok.envoyId, /^[0-9a-f-]{36}$/);
    const weak = Buffer.alloc(32);
    weak[0] = 1;
    const refusals: [Record<string, string>, string][] = [
      [await enrollBody(token, 'web-2', weak.toString('base64')), 'enroll.key_invalid'],
      [await enrollBody(token, 'db-1'), 'enroll.hostname_not_allowed'],
      [await enrollBody(`vget_${'0'.repeat(16)}_${'A'.repeat(43)}`, 'web-3'), 'enroll.token_invalid'],
      [{ ...(await enrollBody(token, 'web-4')), extra: 'x' }, 'request.invalid'],
    ];
    for (const [body, code] of refusals) {
      const refused = conforms<{ code: string }>('POST', path, await call(undefined, 'POST', path, body));
      assert.equal(refused.code, code);
    }
  });

  it('describes validate, dry run and publish, held for approval, with their refusals', async () => {
    const valid = conforms<{ ok: boolean }>(
      'POST',
      '/api/v1/config/validate',
      await call(localAdmin, 'POST', '/api/v1/config/validate', { files: stack('one') }),
    );
    assert.equal(valid.ok, true);
    const broken = stack('one', { 'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [nosuch]\n' });
    const invalid = conforms<{ ok: boolean; diagnostics: unknown[] }>(
      'POST',
      '/api/v1/config/validate',
      await call(localAdmin, 'POST', '/api/v1/config/validate', { files: broken }),
    );
    assert.equal(invalid.ok, false);
    assert.ok(invalid.diagnostics.length > 0);
    const dry = conforms<{ outcome: string }>(
      'POST',
      '/api/v1/config/publish',
      await call(localAdmin, 'POST', '/api/v1/config/publish', { files: stack('one'), dryRun: true }),
    );
    assert.equal(dry.outcome, 'dry_run');
    const refused = conforms<{ code: string }>(
      'POST',
      '/api/v1/config/publish',
      await call(localAdmin, 'POST', '/api/v1/config/publish', { files: broken }),
    );
    assert.equal(refused.code, 'publish.stacks_invalid');
    const forbidden = conforms<{ code: string }>(
      'POST',
      '/api/v1/config/publish',
      await call(undefined, 'POST', '/api/v1/config/publish', { files: stack('one') }),
    );
    assert.equal(forbidden.code, 'auth.required');
  });

  it('describes approve, reject, rollback, freeze and unfreeze, and their refusals', async () => {
    const publish = (content: string, bearer = localAdmin) =>
      call(bearer, 'POST', '/api/v1/config/publish', { files: stack(content), message: content });
    const pending = conforms<{ outcome: string; version: number }>(
      'POST',
      '/api/v1/config/publish',
      await publish('two'),
    );
    assert.equal(pending.outcome, 'pending');
    const approvePath = '/api/v1/config/versions/{version}/approve';
    const rejectPath = '/api/v1/config/versions/{version}/reject';
    const at = (template: string, version: number) => template.replace('{version}', String(version));
    const self = conforms<{ code: string }>(
      'POST',
      approvePath,
      await call(localAdmin, 'POST', at(approvePath, pending.version)),
    );
    assert.equal(self.code, 'publish.self_approval');
    const second = conforms<{ code: string }>('POST', '/api/v1/config/publish', await publish('three'));
    assert.equal(second.code, 'publish.pending_exists');
    const approved = conforms<{ version: number }>(
      'POST',
      approvePath,
      await call(secondAdmin, 'POST', at(approvePath, pending.version)),
    );
    assert.equal(approved.version, pending.version);
    const again = conforms<{ code: string }>(
      'POST',
      approvePath,
      await call(secondAdmin, 'POST', at(approvePath, pending.version)),
    );
    assert.equal(again.code, 'publish.not_pending');
    const missing = conforms<{ code: string }>(
      'POST',
      rejectPath,
      await call(secondAdmin, 'POST', at(rejectPath, 999), {}),
    );
    assert.equal(missing.code, 'publish.version_not_found');

    const toReject = conforms<{ version: number }>('POST', '/api/v1/config/publish', await publish('four'));
    const rejected = conforms<{ version: number }>(
      'POST',
      rejectPath,
      await call(secondAdmin, 'POST', at(rejectPath, toReject.version), { reason: 'not now' }),
    );
    assert.equal(rejected.version, toReject.version);

    const rollback = conforms<{ version: number; restored: number }>(
      'POST',
      '/api/v1/config/rollback',
      await call(localAdmin, 'POST', '/api/v1/config/rollback', { version: 1 }),
    );
    assert.equal(rollback.restored, 1);
    const badRollback = conforms<{ code: string }>(
      'POST',
      '/api/v1/config/rollback',
      await call(localAdmin, 'POST', '/api/v1/config/rollback', { version: rollback.version }),
    );
    assert.equal(badRollback.code, 'publish.rollback_invalid');

    conforms(
      'POST',
      '/api/v1/config/freeze',
      await call(localAdmin, 'POST', '/api/v1/config/freeze', { until: '1h' }),
    );
    const frozen = conforms<{ code: string }>('POST', '/api/v1/config/publish', await publish('five'));
    assert.equal(frozen.code, 'publish.frozen');
    const unfrozen = conforms<{ wasFrozen: boolean }>(
      'POST',
      '/api/v1/config/unfreeze',
      await call(localAdmin, 'POST', '/api/v1/config/unfreeze'),
    );
    assert.equal(unfrozen.wasFrozen, true);
  });

  it('describes tasks: dry run, start, list, one run, abort, and their refusals', async () => {
    const start = (body: Record<string, unknown>) => call(localAdmin, 'POST', '/api/v1/tasks', body);
    const plan = conforms<{ dryRun: boolean }>(
      'POST',
      '/api/v1/tasks',
      await start({ command: 'uptime', targets: ['web-1'], dryRun: true }),
    );
    assert.equal(plan.dryRun, true);
    const vigo = conforms<{ dryRun: boolean }>(
      'POST',
      '/api/v1/task',
      await call(localAdmin, 'POST', '/api/v1/task', { command: 'uptime', target: 'web-*', dryRun: true }),
    );
    assert.equal(vigo.dryRun, true);
    const run = conforms<{ id: string; status: string }>(
      'POST',
      '/api/v1/tasks',
      await start({ command: 'uptime', targets: ['web-1'], batchSize: '100%' }),
    );
    assert.equal(run.status, 'running');
    conforms('GET', '/api/v1/tasks', await call(localAdmin, 'GET', '/api/v1/tasks?limit=5'));
    conforms('GET', '/api/v1/tasks/{id}', await call(localAdmin, 'GET', `/api/v1/tasks/${run.id}`));
    const abortPath = `/api/v1/tasks/${run.id}/abort`;
    conforms('POST', '/api/v1/tasks/{id}/abort', await call(localAdmin, 'POST', abortPath, {}));
    const refusals: [string, string, Record<string, unknown> | undefined, string][] = [
      ['POST', abortPath, {}, 'task.finished'],
      ['GET', '/api/v1/tasks/no-such-run', undefined, 'task.not_found'],
      ['POST', '/api/v1/tasks', { command: 'x', targets: ['web-1'], nice: 99 }, 'task.invalid'],
      ['POST', '/api/v1/tasks', { command: 'pkill vigo', targets: ['web-1'] }, 'task.blocked'],
      ['POST', '/api/v1/tasks', { command: 'x', targets: ['db-9'] }, 'orchestration.target_unknown'],
    ];
    for (const [method, path, body, code] of refusals) {
      const template = path.startsWith('/api/v1/tasks/')
        ? path.replace(/\/tasks\/[^/]+/, '/tasks/{id}')
        : path;
      const refused = conforms<{ code: string }>(
        method,
        template,
        await call(localAdmin, method, path, body),
      );
      assert.equal(refused.code, code);
    }
  });

  it('documents 401 and 403 on every route that needs a credential, and 404 where a route names one thing', () => {
    for (const [path, methods] of Object.entries(openApi.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const access = (operation as unknown as { 'x-vigo-access': string })['x-vigo-access'];
        if (access !== 'public') assert.ok(operation.responses['401'], `${method} ${path} documents 401`);
        if (access !== 'public' && access !== 'authenticated')
          assert.ok(operation.responses['403'], `${method} ${path} documents 403`);
        if (/\{[a-z]+\}$/i.test(path) && path.startsWith('/api/') && method !== 'post')
          assert.ok(operation.responses['404'], `${method} ${path} documents 404`);
      }
    }
  });

  it('describes envoy convergence: list filters, history and fleet aggregates, and their refusals', async () => {
    const token = await createEnrollToken(server, ['conv-*'], 1);
    const agent = await enrollAgent(server, token, 'conv-1');
    const client = agentClient(server, agent);
    const runId = '3f1c2a9e-0b7d-4e8a-9c51-2d6f0a4b8e17';
    try {
      await client.methods.reportResults(
        signRequest('ReportResults', agent.signingKey, agent.envoyId, createEnvelopeClock()(), {
          runs: [
            {
              runId,
              policyVersion: 1n,
              startedAtMs: BigInt(Date.now() - 10),
              finishedAtMs: BigInt(Date.now()),
              results: [
                {
                  resourceId: 'file:/a',
                  resourceType: 'file',
                  outcome: ResourceOutcome.FAILED,
                  durationMs: 1,
                },
              ],
            },
          ],
        }),
      );
    } finally {
      client.close();
    }
    const list = conforms<{ items: { id: string; convergence: string }[] }>(
      'GET',
      '/api/v1/envoys',
      await call(localAdmin, 'GET', '/api/v1/envoys?convergence=failed&drift=none&reachability=offline'),
    );
    assert.deepEqual(
      list.items.map((e) => [e.id, e.convergence]),
      [[agent.envoyId, 'failed']],
    );
    const bad = conforms<{ code: string }>(
      'GET',
      '/api/v1/envoys',
      await call(localAdmin, 'GET', '/api/v1/envoys?reachability=sometimes'),
    );
    assert.equal(bad.code, 'request.invalid');
    conforms('GET', '/api/v1/envoys/{id}', await call(localAdmin, 'GET', `/api/v1/envoys/${agent.envoyId}`));
    const historyPath = '/api/v1/envoys/{id}/convergence/history';
    const history = conforms<{ items: { runId: string; status: string }[] }>(
      'GET',
      historyPath,
      await call(localAdmin, 'GET', `/api/v1/envoys/${agent.envoyId}/convergence/history?limit=5`),
    );
    assert.deepEqual(
      history.items.map((h) => [h.runId, h.status]),
      [[runId, 'failed']],
    );
    const missing = conforms<{ code: string }>(
      'GET',
      historyPath,
      await call(
        localAdmin,
        'GET',
        '/api/v1/envoys/00000000-0000-4000-8000-000000000000/convergence/history',
      ),
    );
    assert.equal(missing.code, 'fleet.envoy_not_found');
    const badBefore = conforms<{ code: string }>(
      'GET',
      historyPath,
      await call(localAdmin, 'GET', `/api/v1/envoys/${agent.envoyId}/convergence/history?before=-1`),
    );
    assert.equal(badBefore.code, 'request.invalid');
    conforms('GET', '/api/v1/fleet/convergence', await call(localAdmin, 'GET', '/api/v1/fleet/convergence'));
  });

  it('describes live queries and force-push, and their refusals', async () => {
    const token = await createEnrollToken(server, ['query-*'], 1);
    conforms(
      'POST',
      '/api/v1/enroll',
      await call(undefined, 'POST', '/api/v1/enroll', await enrollBody(token, 'query-1')),
    );
    const queries = '/api/v1/queries';
    const answer = conforms<{ queryId: string; notAnsweredCount: number }>(
      'POST',
      queries,
      await call(localAdmin, 'POST', queries, { targets: ['query-1'], traitPath: 'os.version' }),
    );
    assert.equal(answer.notAnsweredCount, 1, 'the envoy holds no stream');
    conforms('GET', `${queries}/{id}`, await call(localAdmin, 'GET', `${queries}/${answer.queryId}`));
    const missing = conforms<{ code: string }>(
      'GET',
      `${queries}/{id}`,
      await call(localAdmin, 'GET', `${queries}/00000000-0000-4000-8000-000000000000`),
    );
    assert.equal(missing.code, 'query.not_found');
    const named = conforms<{ items: unknown[] }>(
      'GET',
      '/api/v1/named-queries',
      await call(localAdmin, 'GET', '/api/v1/named-queries'),
    );
    assert.ok(Array.isArray(named.items));
    const queryRefusals: [Record<string, unknown>, string][] = [
      [{ targets: ['query-1'], traitPath: 'os..version' }, 'query.trait_path_invalid'],
      [{ targets: ['query-1'], traitPath: 'os.version', deadlineSeconds: 0 }, 'query.invalid'],
      [{ targets: ['nosuch'], traitPath: 'os.version' }, 'orchestration.target_unknown'],
      [{ targets: ['mail-*'], traitPath: 'os.version' }, 'orchestration.targets_empty'],
      [{ targets: ['query-1'] }, 'query.invalid'],
      [{ targets: ['query-1'], name: 'nosuch' }, 'query.unknown'],
    ];
    for (const [body, code] of queryRefusals) {
      const refused = conforms<{ code: string }>(
        'POST',
        queries,
        await call(localAdmin, 'POST', queries, body),
      );
      assert.equal(refused.code, code);
    }
    const pushed = conforms<{ targeted: number; atNextCheckin: unknown[] }>(
      'POST',
      '/api/v1/push',
      await call(localAdmin, 'POST', '/api/v1/push', { targets: ['query-*'], reason: 'contract' }),
    );
    assert.deepEqual([pushed.targeted, pushed.atNextCheckin.length], [1, 1]);
    const longReason = conforms<{ code: string }>(
      'POST',
      '/api/v1/push',
      await call(localAdmin, 'POST', '/api/v1/push', { targets: ['query-1'], reason: 'é'.repeat(600) }),
    );
    assert.equal(longReason.code, 'push.reason_invalid');
  });
  it('describes workflows: definitions, start, list, one run, approve, reject, abort, and their refusals', async () => {
    const workflows = `workflows:
  gate:
    params:
      note: { type: string, default: none }
    steps:
      - id: ok
        type: approval
        timeout: 1h
  converge:
    steps:
      - id: wait
        type: wait_for_convergence
        targets: [web-1]
        timeout: 1h
`;
    const published = conforms<{ outcome: string; version: number }>(
      'POST',
      '/api/v1/config/publish',
      await call(localAdmin, 'POST', '/api/v1/config/publish', {
        files: stack('workflows', { 'workflows.vgo': workflows }),
      }),
    );
    assert.equal(published.outcome, 'pending');
    await call(secondAdmin, 'POST', `/api/v1/config/versions/${published.version}/approve`);
    const defs = conforms<{ items: { name: string }[] }>(
      'GET',
      '/api/v1/workflows',
      await call(localAdmin, 'GET', '/api/v1/workflows'),
    );
    assert.deepEqual(defs.items.map((d) => d.name).sort(), ['converge', 'gate']);
    const runs = '/api/v1/workflows/runs';
    const start = async (bearer: string, body: Record<string, unknown>) =>
      conforms<{ id: string; status: string; code: string }>(
        'POST',
        runs,
        await call(bearer, 'POST', runs, body),
      );
    const one = (template: string, id: string) => template.replace('{id}', id);
    const gated = await start(localAdmin, { workflow: 'gate', params: { note: 'contract' } });
    assert.equal(gated.status, 'running');
    const approve = '/api/v1/workflows/runs/{id}/approve';
    const reject = '/api/v1/workflows/runs/{id}/reject';
    const abort = '/api/v1/workflows/runs/{id}/abort';
    const self = conforms<{ code: string }>(
      'POST',
      approve,
      await call(localAdmin, 'POST', one(approve, gated.id), {}),
    );
    assert.equal(self.code, 'workflow.self_approval');
    const approved = conforms<{ status: string }>(
      'POST',
      approve,
      await call(secondAdmin, 'POST', one(approve, gated.id), { comment: 'ok' }),
    );
    assert.equal(approved.status, 'succeeded');
    const rejectedRun = await start(localAdmin, { workflow: 'gate' });
    const rejected = conforms<{ status: string }>(
      'POST',
      reject,
      await call(secondAdmin, 'POST', one(reject, rejectedRun.id), { comment: 'no' }),
    );
    assert.equal(rejected.status, 'failed');
    const waiting = await start(localAdmin, { workflow: 'converge' });
    conforms('GET', runs, await call(localAdmin, 'GET', `${runs}?limit=5`));
    conforms('GET', '/api/v1/workflows/runs/{id}', await call(localAdmin, 'GET', `${runs}/${waiting.id}`));
    const refusals: [string, string, string, Record<string, unknown> | undefined, string][] = [
      ['POST', approve, one(approve, waiting.id), {}, 'workflow.not_waiting'],
      ['POST', approve, one(approve, gated.id), {}, 'workflow.finished'],
      ['GET', '/api/v1/workflows/runs/{id}', `${runs}/no-such-run`, undefined, 'workflow.not_found'],
      ['POST', runs, runs, { workflow: 'nosuch' }, 'workflow.unknown'],
      ['POST', runs, runs, { workflow: 'gate', params: { other: 1 } }, 'workflow.param_unknown'],
      ['POST', runs, runs, { workflow: 'gate', params: { note: 5 } }, 'workflow.param_invalid'],
    ];
    for (const [method, template, path, body, code] of refusals) {
      const refused = conforms<{ code: string }>(
        method,
        template,
        await call(localAdmin, method, path, body),
      );
      assert.equal(refused.code, code);
    }
    const aborted = conforms<{ status: string }>(
      'POST',
      abort,
      await call(localAdmin, 'POST', one(abort, waiting.id), { reason: 'contract' }),
    );
    assert.equal(aborted.status, 'aborted');
    const again = conforms<{ code: string }>(
      'POST',
      abort,
      await call(localAdmin, 'POST', one(abort, waiting.id), {}),
    );
    assert.equal(again.code, 'workflow.finished');
  });
});
