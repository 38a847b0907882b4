/**
 * The SIEM and CMDB exports against the real vigosrv: protocol-level agents enroll, send traits and report
 * runs; the exports page through the result with their cursors, as admin and as the compliance role, and
 * refuse what they must (switched off, bad cursor, unknown field, too large a page).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const temp = makeTempDir('vigo-exports-');
const configFile = join(temp.path, 'server.yaml');
const clock = createEnvelopeClock();
let server: ReadyServer;
let admin: string;
let compliance: string;
const agents: EnrolledAgent[] = [];

const traitsOf = (hostname: string, i: number): Record<string, unknown> => ({
  hostname,
  os: {
    family: 'debian',
    distro: 'debian',
    version: '12.5',
    codename: 'bookworm',
    pretty_name: 'Debian, 12',
  },
  kernel: { release: '6.1.0-18-amd64' },
  arch: 'x86_64',
  // A hostile value: a spreadsheet would run it as a formula.
  cpu: { count: 2 + i, model: i === 0 ? '=HYPERLINK("http://evil/")' : 'Xeon "Gold"' },
  memory: { total_mb: 4096 * (i + 1) },
  network: {
    interfaces: [
      { name: 'eth0', mac: null, addresses: ['fe80::1/64', `10.0.0.${10 + i}/24`] },
      { name: 'lo', mac: null, addresses: ['127.0.0.1/8', '::1/128'] },
    ],
  },
  packages: { manager: 'dpkg', count: 300 + i, installed: {} },
});

async function checkIn(agent: EnrolledAgent, traits: Record<string, unknown>): Promise<void> {
  const json = Buffer.from(JSON.stringify(traits));
  const client = agentClient(server, agent);
  try {
    await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
        agentVersion: '1.2.3',
        hostname: agent.hostname,
        traitsHash: createHash('sha256').update(json).digest('hex'),
        traitsJson: json,
      }),
    );
  } finally {
    client.close();
  }
}

async function report(agent: EnrolledAgent, outcome: ResourceOutcome): Promise<void> {
  const runId = randomUUID();
  const client = agentClient(server, agent);
  try {
    const ack = await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 1n,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'file:/tmp/x',
                resourceType: 'file',
                configcrate: 'motd',
                outcome,
                durationMs: 1,
              },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(ack.acceptedRunIds, [runId]);
  } finally {
    client.close();
  }
}

async function call(path: string, token = admin): Promise<Awaited<ReturnType<ReadyServer['request']>>> {
  return server.request(path, { headers: { authorization: `Bearer ${token}` } });
}

async function refusal(path: string, status: number, code: string, token = admin): Promise<string> {
  const reply = await call(path, token);
  assert.equal(reply.status, status, `${path}: ${reply.body}`);
  const body = reply.json<{ code: string; message: string }>();
  assert.equal(body.code, code, body.message);
  return body.message;
}

async function mintToken(username: string, role: string): Promise<string> {
  const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const created = await server.request('/api/v1/users', {
    method: 'POST',
    headers,
    body: JSON.stringify({ username, role }),
  });
  assert.equal(created.status, 201, created.body);
  const token = await server.request('/api/v1/tokens', {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'exports', user: username }),
  });
  assert.equal(token.status, 201, token.body);
  return token.json<{ token: string }>().token;
}

before(async () => {
  writeFileSync(configFile, 'exports:\n  siem: true\n  cmdb: true\n');
  server = await startServer({
    dataDir: temp.path,
    args: ['--config', configFile],
    env: { VIGO_FLEET_FLUSH_INTERVAL: '200ms' },
  });
  admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  compliance = await mintToken('auditor', 'compliance');
  const token = await createEnrollToken(server, ['exp-*'], 5);
  for (const [i, hostname] of ['exp-c', 'exp-a', 'exp-b'].entries()) {
    const agent = await enrollAgent(server, token, hostname);
    agents.push(agent);
    await checkIn(agent, traitsOf(hostname, i));
  }
  await report(agents[0] as EnrolledAgent, ResourceOutcome.FAILED);
  await report(agents[1] as EnrolledAgent, ResourceOutcome.NONE);
});

after(async () => {
  await server?.stop();
  temp.remove();
});

interface CmdbPage {
  fields: string[];
  items: Record<string, string | number | null>[];
  total: number;
  nextCursor: string | null;
}

describe('CMDB export', () => {
  it('pages the inventory in hostname order with every documented field', async () => {
    await waitFor('the agents to have reported on convergence', async () => {
      const page = (await call('/api/v1/export/cmdb?fields=hostname,convergence_status')).json<CmdbPage>();
      return page.items.filter((i) => i['convergence_status'] !== 'no_data').length === 2 ? true : undefined;
    });
    const first = await call('/api/v1/export/cmdb?limit=2', compliance);
    assert.equal(first.status, 200, first.body);
    const page = first.json<CmdbPage>();
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.items.map((i) => i['hostname']),
      ['exp-a', 'exp-b'],
    );
    assert.ok(page.nextCursor !== null);
    assert.equal(first.headers['x-vigo-next-cursor'], page.nextCursor);
    const a = page.items[0] ?? {};
    assert.equal(a['envoy_id'], agents[1]?.envoyId);
    assert.deepEqual(
      [a['status'], a['os_name'], a['os_version'], a['os_family'], a['kernel'], a['arch']],
      ['active', 'debian', '12.5', 'debian', '6.1.0-18-amd64', 'x86_64'],
    );
    assert.deepEqual(
      [a['cpu_count'], a['cpu_model'], a['memory_mb'], a['primary_ip'], a['packages_count']],
      [3, 'Xeon "Gold"', 8192, '10.0.0.11', 301],
    );
    assert.deepEqual(
      [a['agent_version'], a['convergence_status'], a['drift'], a['reachability']],
      ['1.2.3', 'converged', 'none', 'online'],
    );
    assert.match(String(a['last_seen']), /^\d{4}-\d\d-\d\dT/);
    const rest = (await call(`/api/v1/export/cmdb?limit=2&cursor=${page.nextCursor}`)).json<CmdbPage>();
    assert.deepEqual(
      rest.items.map((i) => [i['hostname'], i['convergence_status']]),
      [['exp-c', 'failed']],
    );
    assert.equal(rest.nextCursor, null);
  });

  it('selects fields in the order given and writes safe RFC 4180 CSV', async () => {
    const reply = await call(
      '/api/v1/export/cmdb?format=csv&fields=hostname,cpu_model,os_name,primary_ip,hostname',
    );
    assert.equal(reply.status, 200, reply.body);
    assert.match(String(reply.headers['content-type']), /^text\/csv/);
    assert.equal(
      reply.body,
      'hostname,cpu_model,os_name,primary_ip\r\n' +
        'exp-a,"Xeon ""Gold""",debian,10.0.0.11\r\n' +
        'exp-b,"Xeon ""Gold""",debian,10.0.0.12\r\n' +
        'exp-c,"\'=HYPERLINK(""http://evil/"")",debian,10.0.0.10\r\n',
    );
    const json = (await call('/api/v1/export/cmdb?fields=envoy_id')).json<CmdbPage>();
    assert.deepEqual(json.fields, ['envoy_id']);
    assert.deepEqual(Object.keys(json.items[0] ?? {}), ['envoy_id']);
  });

  it('refuses an unknown field, a forged cursor and too large a page', async () => {
    const message = await refusal(
      '/api/v1/export/cmdb?fields=hostname,cpu_modle',
      400,
      'export.field_unknown',
    );
    assert.match(message, /"cpu_modle".*did you mean "cpu_model"/);
    await refusal('/api/v1/export/cmdb?fields=hostname,,os_name', 400, 'export.field_unknown');
    await refusal('/api/v1/export/cmdb?cursor=bm90LWEtY3Vyc29y', 400, 'export.cursor_invalid');
    await refusal('/api/v1/export/cmdb?cursor=%2F%2F', 400, 'export.cursor_invalid');
    await refusal('/api/v1/export/cmdb?limit=1001', 400, 'request.invalid');
    await refusal('/api/v1/export/cmdb?format=xml', 400, 'request.invalid');
  });
});

interface EcsLine {
  '@timestamp'?: string;
  event?: { kind: string; category: string[]; action: string; id: string; outcome: string; dataset: string };
  user?: { name: string };
  host?: { name?: string; id?: string };
  message?: string;
  vigo: {
    page?: { next_cursor: string; count: number; more: boolean; events_gap: string | null };
    [key: string]: unknown;
  };
}

const parseLines = (body: string): EcsLine[] =>
  body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as EcsLine);

/** Follows every page from the start; returns the records and the last trailer. */
async function pullAll(
  token: string,
  limit: number,
): Promise<{ records: EcsLine[]; pages: number; last: string }> {
  const records: EcsLine[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages < 200; pages++) {
    const reply = await call(
      `/api/v1/export/siem?limit=${limit}${cursor === undefined ? '' : `&after=${cursor}`}`,
      token,
    );
    assert.equal(reply.status, 200, reply.body);
    assert.match(String(reply.headers['content-type']), /^application\/x-ndjson/);
    const lines = parseLines(reply.body);
    const trailer = lines.pop()?.vigo.page;
    assert.ok(trailer !== undefined, 'every page ends with its trailer');
    assert.equal(trailer.count, lines.length);
    assert.ok(lines.length <= limit);
    records.push(...lines);
    cursor = trailer.next_cursor;
    if (!trailer.more) return { records, pages, last: cursor };
  }
  throw new Error('the export never ended');
}

describe('SIEM export', () => {
  it('streams events and audit entries as ECS, in time order, across pages without loss or repeats', async () => {
    const whole = await pullAll(admin, 1000);
    const paged = await pullAll(admin, 3);
    assert.ok(paged.pages > 2);
    const ids = (records: EcsLine[]): string[] => records.map((r) => r.event?.id ?? '');
    // What was added between the two pulls (later server entries) comes last in the paged pull.
    assert.deepEqual(ids(paged.records).slice(0, whole.records.length), ids(whole.records));
    assert.equal(new Set(ids(paged.records)).size, paged.records.length, 'no record twice');
    const stamps = whole.records.map((r) => Date.parse(r['@timestamp'] ?? ''));
    assert.deepEqual(
      stamps,
      [...stamps].sort((x, y) => x - y),
    );

    const enrolled = whole.records.find(
      (r) => r.event?.dataset === 'vigo.audit' && r.event.action === 'envoy.enrolled',
    );
    assert.ok(enrolled !== undefined, 'audit entries are in the stream');
    assert.deepEqual(enrolled.event?.category, ['host']);
    assert.equal(enrolled.event?.outcome, 'success');
    assert.ok(enrolled.user?.name);
    assert.match(enrolled.event?.id ?? '', /^audit-\d+$/);
    const failed = whole.records.find((r) => r.event?.action === 'envoy.failed');
    assert.ok(failed !== undefined, 'bus events are in the stream');
    assert.deepEqual(
      [failed.event?.kind, failed.event?.outcome, failed.event?.dataset, failed.host?.name, failed.host?.id],
      ['event', 'failure', 'vigo.events', 'exp-c', agents[0]?.envoyId],
    );
    assert.match(failed.message ?? '', /envoy\.failed/);
    assert.equal((failed.vigo['data'] as Record<string, unknown>)['status'], 'failed');

    // Resuming at the end finds only what happened since.
    const tail = parseLines((await call(`/api/v1/export/siem?after=${whole.last}`)).body);
    assert.ok(tail.every((line) => !ids(whole.records).includes(line.event?.id ?? '-')));
  });

  it('leaves audit entries and user events out for the compliance role', async () => {
    const { records } = await pullAll(compliance, 1000);
    assert.ok(records.length > 0);
    assert.ok(records.every((r) => r.event?.dataset === 'vigo.events'));
    assert.ok(records.every((r) => !(r.event?.action ?? '').startsWith('user.')));
  });

  it('refuses a forged cursor and too large a page', async () => {
    await refusal('/api/v1/export/siem?after=garbage', 400, 'export.cursor_invalid');
    await refusal('/api/v1/export/siem?after=v1.999999._', 400, 'export.cursor_invalid');
    const blind = await call('/api/v1/export/siem?after=v1.999999._', compliance);
    assert.equal(blind.status, 200, 'the audit position is not judged for a reader who cannot see the log');
    const { last } = await pullAll(admin, 1000);
    const bootTag = /\.([0-9a-z]+)-\d+$/.exec(last)?.[1] ?? '';
    await refusal(`/api/v1/export/siem?after=v1.0.${bootTag}-99999999`, 400, 'export.cursor_invalid');
    await refusal('/api/v1/export/siem?limit=5001', 400, 'request.invalid');
    await refusal('/api/v1/export/siem?limit=0', 400, 'request.invalid');
  });

  it('reports a gap for an event position from an earlier boot, and starts over at the oldest event', async () => {
    const lines = parseLines((await call('/api/v1/export/siem?after=v1.0.zzzzzzzzzz-5')).body);
    const trailer = lines.at(-1)?.vigo.page;
    assert.equal(trailer?.events_gap, 'other-boot');
    assert.ok(lines.some((r) => r.event?.action === 'envoy.failed'));
  });
});

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', temp.path, ...args],
    cleanCliEnv(temp.path, { XDG_CONFIG_HOME: join(temp.path, 'cli-config') }),
    temp.path,
  );
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run;
}

describe('vigocli export', () => {
  it('cmdb follows every page into one CSV file, or one JSON document', async () => {
    const file = join(temp.path, 'cmdb.csv');
    const run = ok(
      await vigocli(['export', 'cmdb', '--fields', 'hostname,primary_ip', '--limit', '1', '--output', file]),
    );
    assert.match(run.stderr, /3 envoys exported/);
    assert.equal(
      readFileSync(file, 'utf8'),
      'hostname,primary_ip\r\nexp-a,10.0.0.11\r\nexp-b,10.0.0.12\r\nexp-c,10.0.0.10\r\n',
    );
    const json = ok(
      await vigocli(['export', 'cmdb', '--format', 'json', '--fields', 'hostname', '--limit', '2']),
    );
    assert.deepEqual(JSON.parse(json.stdout), {
      fields: ['hostname'],
      items: [{ hostname: 'exp-a' }, { hostname: 'exp-b' }, { hostname: 'exp-c' }],
    });
    const bad = await vigocli(['export', 'cmdb', '--fields', 'hostnam']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /did you mean "hostname"/);
  });

  it('siem follows every page and prints the cursor to resume from', async () => {
    const whole = await pullAll(admin, 1000);
    const run = ok(await vigocli(['export', 'siem', '--limit', '4']));
    const lines = parseLines(run.stdout);
    assert.ok(lines.length >= whole.records.length);
    assert.ok(
      lines.every((line) => line.vigo.page === undefined),
      'no trailer among the records',
    );
    assert.deepEqual(
      lines.slice(0, whole.records.length).map((l) => l.event?.id),
      whole.records.map((r) => r.event?.id),
    );
    const cursor = /--after (\S+)/.exec(run.stderr)?.[1];
    assert.ok(cursor !== undefined, run.stderr);
    const resumed = ok(await vigocli(['export', 'siem', '--after', cursor]));
    const again = new Set(lines.map((l) => l.event?.id));
    assert.ok(parseLines(resumed.stdout).every((l) => !again.has(l.event?.id)));
  });
});

describe('switching exports off', () => {
  it('answers 404 export.disabled once server.yaml turns an export off and is reloaded', async () => {
    writeFileSync(configFile, 'exports:\n  siem: false\n  cmdb: false\n');
    server.child.kill('SIGHUP');
    await server.waitForLog('reload', (l) => l.msg === 'config reloaded');
    const message = await refusal('/api/v1/export/siem', 404, 'export.disabled');
    assert.match(message, /exports\.siem: true/);
    await refusal('/api/v1/export/cmdb?format=csv', 404, 'export.disabled', compliance);
  });
});
