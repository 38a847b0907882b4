/**
 * Prometheus itself (Debian's `prometheus`, the package that also brings promtool) scrapes a real vigosrv
 * over HTTPS with the local-admin token, as an operator's deploy would: the target comes up, Vigo's
 * families are queryable, and the shipped alert rules load and evaluate against the live series. Skipped,
 * saying why, where Prometheus is not installed, unless VIGO_REQUIRE_PROMTOOL=1 (CI) makes that a failure.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers/deadline.ts';
import { findPrometheus, promtoolSkipReason } from './helpers/promtool.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';

const skip = promtoolSkipReason();
const temp = makeTempDir('vigo-prometheus-');
let server: ReadyServer | undefined;
let prometheus: ChildProcess | undefined;
let prometheusPort = 0;
let prometheusLog = '';

interface QueryAnswer {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expression: string): Promise<QueryAnswer['data']['result']> {
  const url = `http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(expression)}`;
  const reply = await fetch(url);
  const answer = (await reply.json()) as QueryAnswer;
  assert.equal(answer.status, 'success', JSON.stringify(answer));
  return answer.data.result;
}

before(async () => {
  if (skip !== undefined) return;
  const bin = findPrometheus();
  if (bin === undefined) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const dataDir = join(temp.path, 'vigo');
  // vigosrv runs with its data directory as working directory.
  mkdirSync(dataDir, { mode: 0o700 });
  server = await startServer({ dataDir });
  const caFile = join(temp.path, 'ca.pem');
  writeFileSync(caFile, server.ca);
  const config = join(temp.path, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'))}]`,
      'scrape_configs:',
      '  - job_name: vigo',
      '    scheme: https',
      `    tls_config: { ca_file: ${JSON.stringify(caFile)}, server_name: localhost }`,
      `    authorization: { credentials_file: ${JSON.stringify(join(dataDir, 'local-admin.token'))} }`,
      `    static_configs: [{ targets: ["127.0.0.1:${server.apiPort}"] }]`,
      '',
    ].join('\n'),
  );
  prometheusPort = await freeLoopbackPort();
  prometheus = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(temp.path, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    prometheusLog = (prometheusLog + chunk).slice(-20_000);
  });
});

after(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
  temp.remove();
});

describe('Prometheus scraping vigosrv', { skip }, () => {
  it('scrapes it over HTTPS with a bearer token, and Vigo families are queryable', async () => {
    const up = await waitFor(
      'Prometheus to scrape vigosrv successfully',
      async () => {
        try {
          const [sample] = await query('up{job="vigo"}');
          return sample?.value[1] === '1' ? sample : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      250,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nprometheus log:\n${prometheusLog}`);
    });
    assert.equal(up.metric['instance'], `127.0.0.1:${server?.apiPort ?? 0}`);
    for (const family of ['vigo_nodes_total', 'vigo_build_info', 'vigo_audit_chain_broken']) {
      const samples = await query(family);
      assert.ok(samples.length > 0, `${family} is stored by Prometheus`);
    }
  });

  it('loads the shipped alert rules and evaluates them on the live series', async () => {
    const groups = await waitFor(
      'the rule groups to be evaluated',
      async () => {
        const reply = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/rules`);
        const answer = (await reply.json()) as {
          data: { groups: { name: string; rules: { health: string; name: string; lastError?: string }[] }[] };
        };
        const rules = answer.data.groups.flatMap((group) => group.rules);
        return rules.length > 0 && rules.every((rule) => rule.health === 'ok')
          ? answer.data.groups
          : undefined;
      },
      60_000,
      250,
    );
    assert.ok(groups.length > 0);
    const firing = await query('ALERTS{alertstate="firing",alertname="VigoAuditChainBroken"}');
    assert.deepEqual(firing, [], 'an intact audit chain raises no alarm');
  });
});
