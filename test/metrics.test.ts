/**
 * /metrics against a real vigosrv: after a start-up publish, two enrollments, check-ins (a bundle, a
 * no-change, a refusal) and a converged run report, the scrape carries Vigo's families with their types,
 * labels and buckets, every labelled counter starts at zero for each label set, HTTP requests are counted
 * by route template, and promtool accepts the scrape. The deploy/ alert rules pass their promtool unit
 * tests, and every metric the dashboards and rules query — and every metric docs/metrics.md lists — is one
 * the server exports.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import { parseExposition } from './helpers/exposition.ts';
import type { Exposition } from './helpers/exposition.ts';
import { promtool, promtoolSkipReason } from './helpers/promtool.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-metrics-');
const work = makeTempDir('vigo-metrics-work-');
const clock = createEnvelopeClock();
let server: ReadyServer;
let admin: string;
let web: EnrolledAgent;

function writeStacks(): string {
  const root = join(temp.path, 'stacks');
  mkdirSync(join(root, 'configcrates'), { recursive: true });
  writeFileSync(
    join(root, 'configcrates', 'marker.vgo'),
    `name: marker\nresources:\n  - name: dir\n    type: directory\n    target_path: ${join(work.path, 'marker')}\n`,
  );
  writeFileSync(
    join(root, 'envoys.vgo'),
    'envoys:\n  - match: "*.example.com"\n    configcrates: [marker]\n',
  );
  return root;
}

async function scrapeText(): Promise<string> {
  const reply = await server.request('/metrics', { headers: { authorization: admin } });
  assert.equal(reply.status, 200, reply.body);
  assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return reply.body;
}

async function scrape(): Promise<Exposition> {
  return parseExposition(await scrapeText());
}

function value(metrics: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = metrics.find(name, labels);
  assert.equal(found.length, 1, `exactly one ${name} ${JSON.stringify(labels)} sample`);
  return (found[0] as { value: number }).value;
}

async function checkIn(agent: EnrolledAgent, tsMs: number, policyVersion = 0n): Promise<bigint> {
  const client = agentClient(server, agent);
  try {
    const reply = await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, tsMs, {
        agentVersion: 'test',
        hostname: agent.hostname,
        policyVersion,
      }),
    );
    return reply.policyVersion;
  } finally {
    client.close();
  }
}

async function reportConverged(agent: EnrolledAgent, policyVersion: bigint): Promise<void> {
  const client = agentClient(server, agent);
  try {
    const ack = await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId: crypto.randomUUID(),
            policyVersion,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'dir:marker',
                resourceType: 'directory',
                configcrate: 'marker',
                outcome: ResourceOutcome.NONE,
                durationMs: 1,
              },
            ],
          },
        ],
      }),
    );
    assert.equal(ack.acceptedRunIds.length, 1);
  } finally {
    client.close();
  }
}

before(async () => {
  server = await startServer({
    dataDir: temp.path,
    args: ['--stacks', writeStacks(), '--publish-at-start'],
    // One event sink whose events never occur here: its series must exist, at zero, from the start.
    env: {
      VIGO_INTEGRATIONS: JSON.stringify([
        {
          name: 'siem',
          type: 'webhook',
          url: 'https://siem.example.invalid/vigo',
          secret: 'secret:hooks/siem',
          events: ['audit.chain_broken'],
        },
      ]),
    },
  });
  admin = `Bearer ${readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim()}`;
  const token = await createEnrollToken(server, ['*.example.com'], 5);
  web = await enrollAgent(server, token, 'web-1.example.com');
  await enrollAgent(server, token, 'idle-1.example.com'); // enrolled, never checks in
  const version = await checkIn(web, Number(clock()));
  const tsMs = Number(clock());
  await checkIn(web, tsMs, version);
  await assert.rejects(checkIn(web, tsMs, version), 'a replayed timestamp is refused');
  await reportConverged(web, version);
});

after(async () => {
  await server?.stop();
  temp.remove();
  work.remove();
});

/**
 * Gauges whose `_total` suffix promtool's lint flags but whose names are not ours to change: Vigo's own
 * `vigo_nodes_total` and `vigo_nodes_active_total` (dashboards and alerts written for Vigo use them), and
 * prom-client's standard Node.js default metrics.
 */
const namedTotalGauges = new Set([
  'vigo_nodes_total',
  'vigo_nodes_active_total',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

/** Every PromQL query of each Grafana dashboard in deploy/grafana: panel targets and variable queries. */
function dashboardQueries(): Map<string, string[]> {
  const dir = join(repoRoot, 'deploy', 'grafana');
  const out = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
      templating: { list: { type: string; query: unknown }[] };
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const variable of dashboard.templating.list) {
      const query = variable.query as { query?: string } | undefined;
      const labelValues = /^label_values\((\w+), \w+\)$/.exec(query?.query ?? '');
      if (variable.type === 'query' && labelValues !== null) exprs.push(labelValues[1] as string);
    }
    out.set(file, exprs);
  }
  return out;
}

const vigoAgeBuckets = [
  '5',
  '15',
  '30',
  '45',
  '60',
  '120',
  '300',
  '600',
  '900',
  '1800',
  '3600',
  '7200',
  '+Inf',
];

describe('/metrics', () => {
  it("exports Vigo's fleet families: nodes, states, convergence and the check-in age histogram", async () => {
    const metrics = await waitFor('the fleet census to count the converged envoy', async () => {
      const m = await scrape();
      return m.find('vigo_envoys_converged')[0]?.value === 1 ? m : undefined;
    });
    for (const name of [
      'vigo_nodes_total',
      'vigo_nodes_active_total',
      'vigo_convergence_pct',
      'vigo_envoys',
      'vigo_envoys_converged',
      'vigo_fleet_census_timestamp_seconds',
    ])
      assert.equal(metrics.types.get(name), 'gauge', name);
    assert.equal(value(metrics, 'vigo_nodes_total'), 2, 'both enrolled envoys');
    assert.equal(value(metrics, 'vigo_nodes_active_total'), 1, 'only web-1 has checked in');
    assert.equal(value(metrics, 'vigo_envoys', { state: 'active' }), 1);
    assert.equal(value(metrics, 'vigo_envoys', { state: 'never_seen' }), 1);
    assert.equal(value(metrics, 'vigo_envoys', { state: 'stale' }), 0);
    assert.equal(value(metrics, 'vigo_envoys', { state: 'revoked' }), 0);
    assert.equal(value(metrics, 'vigo_convergence_pct'), 1, 'the one active envoy converged');

    assert.equal(metrics.types.get('vigo_checkin_age_seconds'), 'histogram');
    const buckets = metrics.find('vigo_checkin_age_seconds_bucket');
    assert.deepEqual(
      buckets.map((b) => b.labels['le']),
      vigoAgeBuckets,
    );
    assert.equal(value(metrics, 'vigo_checkin_age_seconds_count'), 1, 'one envoy has a last check-in');
    assert.equal(value(metrics, 'vigo_checkin_age_seconds_bucket', { le: '+Inf' }), 1);
  });

  it('counts check-ins by status and times them; refusals, transitions and rejections start at zero', async () => {
    const metrics = await scrape();
    assert.equal(metrics.types.get('vigo_checkins_total'), 'counter');
    assert.ok(value(metrics, 'vigo_checkins_total', { status: 'bundle' }) >= 1);
    assert.ok(value(metrics, 'vigo_checkins_total', { status: 'no_change' }) >= 1);
    assert.equal(value(metrics, 'vigo_checkins_total', { status: 'refused' }), 1);
    assert.equal(
      value(metrics, 'vigo_agent_rejections_total', { rpc: 'CheckIn', code: 'checkin.replayed' }),
      1,
    );
    assert.equal(
      value(metrics, 'vigo_agent_rejections_total', { rpc: 'ReportResults', code: 'results.queue_full' }),
      0,
      'initialised',
    );
    assert.equal(metrics.types.get('vigo_envoy_state_transitions_total'), 'counter');
    assert.equal(value(metrics, 'vigo_envoy_state_transitions_total', { transition: 'offline' }), 0);
    assert.equal(value(metrics, 'vigo_envoy_state_transitions_total', { transition: 'online' }), 0);
    assert.equal(metrics.types.get('vigo_checkin_duration_seconds'), 'histogram');
    assert.equal(
      value(metrics, 'vigo_checkin_duration_seconds_count'),
      3,
      'every CheckIn, refused one included',
    );
    assert.equal(value(metrics, 'vigo_results_accepted_total'), 1);
  });

  it('counts HTTP requests by route template, method and status class, never by raw path', async () => {
    const envoy = await server.request(`/api/v1/envoys/${web.envoyId}`, {
      headers: { authorization: admin },
    });
    assert.equal(envoy.status, 200, envoy.body);
    assert.equal((await server.request('/no/such/page', { headers: { authorization: admin } })).status, 404);
    const metrics = await scrape();
    assert.equal(metrics.types.get('vigo_http_requests_total'), 'counter');
    assert.equal(metrics.types.get('vigo_http_request_duration_seconds'), 'histogram');
    const byRoute = { route: '/api/v1/envoys/{id}', method: 'GET' };
    assert.equal(value(metrics, 'vigo_http_requests_total', { ...byRoute, status: '2xx' }), 1);
    assert.equal(value(metrics, 'vigo_http_requests_total', { ...byRoute, status: '5xx' }), 0, 'initialised');
    assert.equal(value(metrics, 'vigo_http_request_duration_seconds_count', byRoute), 1);
    assert.ok(
      value(metrics, 'vigo_http_requests_total', { route: 'unmatched', method: 'GET', status: '4xx' }) >= 1,
    );
    const routes = new Set(metrics.find('vigo_http_requests_total').map((s) => s.labels['route']));
    assert.ok(![...routes].some((r) => r?.includes(web.envoyId)), 'no raw path becomes a label');
  });

  it('reports publishes by outcome, the active config version and when it became active', async () => {
    const metrics = await scrape();
    assert.equal(value(metrics, 'vigo_publishes_total', { outcome: 'activated' }), 1, 'the start-up publish');
    for (const outcome of ['pending', 'unchanged', 'dry_run', 'invalid', 'refused', 'failed'])
      assert.equal(value(metrics, 'vigo_publishes_total', { outcome }), 0, outcome);
    assert.equal(value(metrics, 'vigo_publish_duration_seconds_count', { phase: 'publish' }), 1);
    assert.ok(value(metrics, 'vigo_config_version') >= 1);
    const at = value(metrics, 'vigo_config_last_publish_timestamp_seconds');
    assert.ok(at > Date.now() / 1000 - 600 && at <= Date.now() / 1000 + 1, 'activated during this test');
  });

  it('reports the build, database size, results queue, flusher, audit chain and process health', async () => {
    const metrics = await waitFor('the first fleet flush', async () => {
      const m = await scrape();
      return (m.find('vigo_fleet_last_flush_timestamp_seconds')[0]?.value ?? 0) > 0 ? m : undefined;
    });
    const build = metrics.find('vigo_build_info');
    assert.equal(build.length, 1);
    assert.match(build[0]?.labels['version'] ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(build[0]?.labels['node_version'], process.version);
    assert.ok(value(metrics, 'vigo_database_size_bytes') > 0);
    assert.equal(value(metrics, 'vigo_results_queue_capacity'), 50_000);
    assert.equal(value(metrics, 'vigo_results_queue_depth'), 0);
    assert.equal(metrics.types.get('vigo_fleet_flush_pending_envoys'), 'gauge');
    assert.equal(value(metrics, 'vigo_audit_chain_broken'), 0);
    assert.equal(metrics.types.get('vigo_audit_chain_length'), 'gauge');
    assert.equal(metrics.types.get('nodejs_eventloop_lag_seconds'), 'gauge');
    assert.equal(metrics.types.get('process_resident_memory_bytes'), 'gauge');
  });

  it("initialises every integration target's delivery counters, queue depth and latency histogram", async () => {
    const metrics = await scrape();
    assert.equal(metrics.types.get('vigo_integration_deliveries_total'), 'counter');
    for (const outcome of ['delivered', 'retried', 'dead'])
      assert.equal(
        value(metrics, 'vigo_integration_deliveries_total', { target: 'siem', outcome }),
        0,
        outcome,
      );
    assert.equal(metrics.types.get('vigo_integration_queue_depth'), 'gauge');
    assert.equal(value(metrics, 'vigo_integration_queue_depth', { target: 'siem' }), 0);
    assert.equal(metrics.types.get('vigo_integration_request_duration_seconds'), 'histogram');
    assert.equal(value(metrics, 'vigo_integration_request_duration_seconds_count', { target: 'siem' }), 0);
  });

  it(
    'passes promtool check metrics, apart from the gauges whose names are given',
    {
      skip: promtoolSkipReason(),
    },
    async () => {
      const result = await promtool(['check', 'metrics'], await scrapeText());
      const problems = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
      const unexpected = problems.filter((line) => {
        const named = /^(\S+) non-counter metrics should not have "_total" suffix$/.exec(line);
        return named === null || !namedTotalGauges.has(named[1] as string);
      });
      assert.deepEqual(unexpected, [], 'promtool found nothing else');
      assert.ok(result.code === 0 || result.code === 3, `promtool read the scrape (exit ${result.code})`);
    },
  );

  it('exports every metric the dashboards, the alert rules and docs/metrics.md name', async () => {
    const metrics = await scrape();
    const exported = (name: string): boolean => metrics.familyOf(name) !== undefined;
    const named = new Map<string, string>();
    const collect = (text: string, where: string): void => {
      for (const [name] of text.matchAll(/\b(?:vigo|process|nodejs)_[a-z0-9_]+\b/g))
        if (!named.has(name)) named.set(name, where);
    };
    const dashboards = dashboardQueries();
    assert.deepEqual([...dashboards.keys()].sort(), ['checkin.json', 'compliance.json', 'fleet.json']);
    for (const [file, exprs] of dashboards) {
      assert.ok(exprs.length > 0, `${file} has queries`);
      for (const expr of exprs) collect(expr, file);
    }
    const rules = parseYaml(readFileSync(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    for (const rule of rules.groups.flatMap((g) => g.rules)) collect(rule.expr, `alert ${rule.alert}`);
    const docs = readFileSync(join(repoRoot, 'docs', 'metrics.md'), 'utf8');
    collect(docs, 'docs/metrics.md');
    const missing = [...named]
      .filter(([name]) => !exported(name))
      .map(([name, where]) => `${name} (${where})`);
    assert.deepEqual(missing, [], 'named but not exported');

    const documented = new Set([...docs.matchAll(/`(vigo_[a-z0-9_]+)`/g)].map((m) => m[1]));
    const undocumented = [...metrics.types.keys()].filter((n) => n.startsWith('vigo_') && !documented.has(n));
    assert.deepEqual(undocumented, [], 'exported but not in docs/metrics.md');
  });

  it('passes the alert rules unit tests (promtool test rules)', { skip: promtoolSkipReason() }, async () => {
    const rules = join(repoRoot, 'deploy', 'prometheus');
    const checked = await promtool(['check', 'rules', join(rules, 'alerts.yml')]);
    assert.equal(checked.code, 0, `${checked.stdout}\n${checked.stderr}`);
    const tested = await promtool(['test', 'rules', join(rules, 'alerts.test.yml')]);
    assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
  });

  it(
    'has dashboards whose queries are valid PromQL (promtool check rules)',
    { skip: promtoolSkipReason() },
    async () => {
      // Each query becomes a recording rule, with Grafana's variables given values, so promtool parses it.
      const rules = [...dashboardQueries()].flatMap(([file, exprs]) =>
        exprs.map((expr, i) => ({
          record: `dashboard:${file.replace('.json', '')}:${i}`,
          expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.+'),
        })),
      );
      const file = join(work.path, 'dashboard-queries.yml');
      writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboards', rules }] }));
      const checked = await promtool(['check', 'rules', file]);
      assert.equal(checked.code, 0, `${checked.stdout}\n${checked.stderr}`);
    },
  );
});
