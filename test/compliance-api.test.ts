/**
 * Framework compliance end to end against the real vigosrv: stacks with claims and a waiver are published at
 * start, protocol-level agents report runs over mTLS, and the REST API shows coverage per framework, the
 * failing envoys, each envoy's controls and risk, and the waivers; a restart (kill-free drain) serves the
 * same answers, and the OSCAL export is refused while off and validates against NIST's schema when on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { parseExposition } from './helpers/exposition.ts';
import { promtool, promtoolSkipReason } from './helpers/promtool.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-compliance-api-');
const dataDir = join(temp.path, 'data');
const stacksDir = join(temp.path, 'stacks');
const clock = createEnvelopeClock();
let server: ReadyServer;
let admin: string;

function writeStacks(): void {
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd
compliance:
  cis: ["1.1.1"]
resources:
  - name: banner
    type: file
    target_path: /tmp/vigo-compliance-test/motd
    content: hello
`,
    'configcrates/compliance.vgo': 'claims:\n  nist-800-53: [CM-6]\n',
    'envoys.vgo': 'envoys:\n  - match: "comp-*"\n    configcrates: [motd]\n',
    'compliance.vgo': `waivers:
  - match: comp-c
    framework: cis
    control: "1.1.1"
    reason: decommissioned next week
    owner: ops
    expires: 2099-01-01
`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(stacksDir, rel, '..'), { recursive: true });
    writeFileSync(join(stacksDir, rel), text);
  }
}

async function start(oscal: boolean): Promise<void> {
  server = await startServer({
    dataDir,
    args: ['--stacks', stacksDir, '--publish-at-start'],
    env: {
      VIGO_EXPORTS_OSCAL: oscal ? 'true' : 'false',
      VIGO_METRICS_COMPLIANCE_PER_ENVOY: oscal ? 'true' : 'false',
    },
  });
  admin = readFileSync(join(dataDir, 'local-admin.token'), 'utf8').trim();
}

before(async () => {
  mkdirSync(dataDir, { mode: 0o700 });
  writeStacks();
  await start(false);
});
const cleanups: (() => void)[] = [];
after(async () => {
  await server?.stop();
  temp.remove();
  for (const clean of cleanups) clean();
});

async function get<T>(path: string, expectStatus = 200): Promise<T> {
  const reply = await server.request(path, { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(reply.status, expectStatus, `${path}: ${reply.body}`);
  return reply.json<T>();
}

async function report(agent: EnrolledAgent, outcome: ResourceOutcome): Promise<void> {
  const client = agentClient(server, agent);
  const runId = randomUUID();
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
                resourceId: 'motd/banner',
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

interface Summary {
  framework: string;
  envoys: number;
  claimed: number;
  enforced: number;
  failing: number;
  waived: number;
  pending: number;
  coveragePct: number;
}

describe('compliance over the real server', () => {
  const agents: Record<string, EnrolledAgent> = {};

  before(async () => {
    const token = await createEnrollToken(server, ['comp-*'], 5);
    for (const host of ['comp-a', 'comp-b', 'comp-c']) agents[host] = await enrollAgent(server, token, host);
    await report(agents['comp-a']!, ResourceOutcome.NONE);
    await report(agents['comp-b']!, ResourceOutcome.FAILED);
  });

  it('counts coverage per framework: enforced, failing, waived and pending', async () => {
    const overview = await get<{ frameworks: Summary[]; envoys: number; riskFormula: string }>(
      '/api/v1/compliance',
    );
    assert.deepEqual(
      overview.frameworks.map((f) => [
        f.framework,
        f.envoys,
        f.enforced,
        f.failing,
        f.waived,
        f.pending,
        f.coveragePct,
      ]),
      [
        ['cis', 3, 1, 1, 1, 0, 66.7],
        ['nist-800-53', 3, 1, 1, 0, 1, 33.3],
      ],
    );
    assert.match(overview.riskFormula, /failing\/claimed/);
  });

  it('lists a framework’s controls and its failing envoys, and refuses unknown or malformed frameworks', async () => {
    const cis = await get<{
      controlList: { control: string; envoys: number; failing: number }[];
      failingEnvoyPage: { items: { hostname: string; failing: string[] }[]; total: number };
    }>('/api/v1/compliance/frameworks/cis?limit=10');
    assert.deepEqual(
      cis.controlList.map((c) => [c.control, c.envoys, c.failing]),
      [['1.1.1', 3, 1]],
    );
    assert.deepEqual(cis.failingEnvoyPage.items, [
      { envoyId: agents['comp-b']!.envoyId, hostname: 'comp-b', failing: ['1.1.1'] },
    ]);
    const unknown = await get<{ code: string }>('/api/v1/compliance/frameworks/pci-dss', 404);
    assert.equal(unknown.code, 'compliance.framework_unknown');
    const bad = await get<{ code: string }>('/api/v1/compliance/frameworks/CIS%20v8', 400);
    assert.equal(bad.code, 'request.invalid');
  });

  it("shows an envoy's controls with their resources, and its risk score with the formula's terms", async () => {
    const b = await get<{
      frameworks: { framework: string; controls: { state: string; resources: { outcome?: string }[] }[] }[];
      risk: { score: number; terms: Record<string, number>; formula: string };
    }>(`/api/v1/compliance/envoys/${agents['comp-b']!.envoyId}`);
    assert.deepEqual(
      b.frameworks.map((f) => [f.framework, f.controls[0]!.state, f.controls[0]!.resources[0]!.outcome]),
      [
        ['cis', 'failing', 'failed'],
        ['nist-800-53', 'failing', 'failed'],
      ],
    );
    assert.equal(b.risk.terms['failing'], 50);
    assert.equal(b.risk.terms['securityUpdates'], 0);
    assert.ok(b.risk.score >= 50);
    const c = await get<{ activeWaivers: string[]; waiverDetails: { owner: string }[] }>(
      `/api/v1/compliance/envoys/${agents['comp-c']!.envoyId}`,
    );
    assert.equal(c.activeWaivers.length, 1);
    assert.equal(c.waiverDetails[0]!.owner, 'ops');
    await get(`/api/v1/compliance/envoys/${randomUUID()}`, 404);
  });

  it('lists waivers with their expiry', async () => {
    const w = await get<{ items: { control: string; expired: boolean; envoys: number; expires: string }[] }>(
      '/api/v1/compliance/waivers',
    );
    assert.deepEqual(
      w.items.map((x) => [x.control, x.expires, x.expired, x.envoys]),
      [['1.1.1', '2099-01-01', false, 1]],
    );
  });

  it('refuses the OSCAL export while it is off, and after a restart serves the same answers and a valid export', async () => {
    const off = await get<{ code: string }>('/api/v1/export/oscal?framework=cis', 404);
    assert.equal(off.code, 'export.disabled');
    const before = await get<unknown>('/api/v1/compliance');
    const envoyBefore = await get<{ frameworks: unknown }>(
      `/api/v1/compliance/envoys/${agents['comp-b']!.envoyId}`,
    );
    await server.stop();
    await start(true);
    assert.deepEqual(await get<unknown>('/api/v1/compliance'), before);
    const envoyAfter = await get<{ frameworks: unknown }>(
      `/api/v1/compliance/envoys/${agents['comp-b']!.envoyId}`,
    );
    assert.deepEqual(envoyAfter.frameworks, envoyBefore.frameworks);

    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures/oscal/oscal_assessment-results_schema.json'), 'utf8'),
    ) as object;
    const validate = ajv.compile(schema);
    const doc = await get<{
      'assessment-results': { results: { findings: unknown[]; risks?: unknown[] }[] };
    }>('/api/v1/export/oscal?framework=cis&envoys=comp-*');
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 5)));
    assert.equal(doc['assessment-results'].results[0]!.findings.length, 1);
    assert.equal(doc['assessment-results'].results[0]!.risks?.length, 1);
    const missing = await get<{ code: string }>('/api/v1/export/oscal', 400);
    assert.equal(missing.code, 'request.invalid');
  });

  it('reports through vigocli as a table, JSON, a self-contained HTML page, and lists waivers', async () => {
    const home = makeTempDir('vigo-compliance-cli-');
    cleanups.push(() => home.remove());
    const cli = async (args: string[]): Promise<string> => {
      const run = await runVigocli(
        ['--server', server.apiUrl, '--data-dir', dataDir, ...args],
        cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, 'config') }),
        home.path,
      );
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      return run.stdout;
    };
    const tableOut = await cli(['compliance', 'report']);
    assert.match(tableOut, /^FRAMEWORK\s+ENVOYS\s+CONTROLS/m);
    assert.match(tableOut, /^cis\s+3\s+1\s+1\s+1\s+1\s+0\s+66\.7%$/m);
    const one = await cli(['compliance', 'report', '--framework', 'cis']);
    assert.match(one, /^comp-b\s+\S+\s+1\.1\.1$/m);
    const json = JSON.parse(
      await cli(['compliance', 'report', '--framework', 'cis', '--format', 'json']),
    ) as {
      framework: string;
      failingEnvoyPage: { total: number };
    };
    assert.deepEqual([json.framework, json.failingEnvoyPage.total], ['cis', 1]);
    const html = await cli(['compliance', 'report', '--format', 'html']);
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|<link|src=/, 'self-contained');
    assert.match(html, /<h2>nist-800-53<\/h2>/);
    assert.match(html, /decommissioned next week/);
    const waivers = await cli(['compliance', 'waivers']);
    assert.match(
      waivers,
      /^cis\s+1\.1\.1\s+comp-c\s+ops\s+2099-01-01\s+active\s+1\s+decommissioned next week$/m,
    );
    const bad = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', dataDir, 'compliance', 'report', '--format', 'pdf'],
      cleanCliEnv(home.path),
      home.path,
    );
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--format must be one of table, json, html/);
  });

  it('exports coverage, controls by state and (switched on here) each envoy’s status to Prometheus', async (t) => {
    const reply = await server.request('/metrics', { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(reply.status, 200);
    const metrics = parseExposition(reply.body);
    const one = (name: string, labels: Record<string, string>): number => {
      const found = metrics.find(name, labels);
      assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`);
      return (found[0] as { value: number }).value;
    };
    assert.equal(one('vigo_compliance_coverage_pct', { framework: 'cis' }), 66.7);
    assert.equal(one('vigo_compliance_controls', { framework: 'cis', state: 'failing' }), 1);
    assert.equal(one('vigo_compliance_controls', { framework: 'nist-800-53', state: 'pending' }), 1);
    assert.equal(one('vigo_compliance_status', { envoy: 'comp-b', status: 'failed' }), 1);
    assert.equal(one('vigo_compliance_status', { envoy: 'comp-c', status: 'no data' }), 1);
    const skip = promtoolSkipReason();
    if (skip !== undefined) return t.skip(skip);
    // The scrape's other families are checked by metrics.test.ts (some of Vigo's gauges end in _total).
    const checked = await promtool(['check', 'metrics'], reply.body);
    const problems = `${checked.stdout}${checked.stderr}`.split('\n').filter((l) => l.includes('compliance'));
    assert.deepEqual(problems, [], 'promtool finds nothing in the compliance families');
    assert.ok(checked.code === 0 || checked.code === 3, `promtool read the scrape (exit ${checked.code})`);
  });
});
