/**
 * Agent footprint: the bundled agent (the vigo.mjs /bootstrap serves) enrolls with a real server,
 * converges a bundle of 100 file resources, then runs again with nothing to do. Prints the no-op run's
 * apply time and process wall time, and the agent's peak RSS, against the targets (≤ 1 s, ≤ 60 MB).
 *
 *   npm run bench:agent [-- --resources N]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEnrollToken } from '../test/helpers/agent-client.ts';
import { makeTempDir, startServer } from '../test/helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from '../test/helpers/vigocli.ts';

const { values } = parseArgs({ options: { resources: { type: 'string', default: '100' } } });
const resourceCount = Number(values.resources);

const temp = makeTempDir('vigo-bench-agent-');
const serverDir = join(temp.path, 'server');
const stateDir = join(temp.path, 'state');
const managed = join(temp.path, 'managed');
mkdirSync(serverDir);
mkdirSync(managed);

interface ChildRun {
  code: number | null;
  wallMs: number;
  maxRssKb: number;
  stderr: string;
}

/** The flags the /bootstrap wrapper runs the agent with (server/bootstrap/bootstrap.sh). */
const installedNodeFlags = ['--lite-mode', '--max-semi-space-size=1'];

const rssProbe = join(temp.path, 'rss-probe.cjs');
writeFileSync(
  rssProbe,
  "process.on('exit', () => require('node:fs').writeSync(2, `\\nmaxrss_kb=${process.resourceUsage().maxRSS}\\n`));\n",
);

function node(args: string[]): Promise<ChildRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--require', rssProbe, ...installedNodeFlags, ...args],
      { env: cleanCliEnv(temp.path), timeout: 300_000 },
      (err, _stdout, stderr) => {
        const rss = /maxrss_kb=(\d+)/.exec(stderr);
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
          wallMs: performance.now() - started,
          maxRssKb: rss ? Number(rss[1]) : 0,
          stderr,
        });
      },
    );
  });
}

function stack(): string {
  const dir = join(temp.path, 'stack');
  mkdirSync(join(dir, 'configcrates'), { recursive: true });
  const resources = Array.from(
    { length: resourceCount },
    (_, i) =>
      `  - name: f${i}\n    type: file\n    target_path: ${managed}/f${i}.conf\n    content: "line ${i}\\n"\n    mode: "0644"\n`,
  ).join('');
  writeFileSync(join(dir, 'configcrates', 'many.vgo'), `name: many\nresources:\n${resources}`);
  writeFileSync(join(dir, 'roles.vgo'), 'roles:\n  many:\n    configcrates: [many]\n');
  writeFileSync(join(dir, 'envoys.vgo'), 'envoys:\n  - match: "bench-agent"\n    roles: [many]\n');
  return dir;
}

const server = await startServer({ dataDir: serverDir });
try {
  const published = await runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir, 'config', 'publish', stack()],
    cleanCliEnv(temp.path),
    temp.path,
  );
  if (published.code !== 0) throw new Error(`publish failed: ${published.stderr}`);
  const artifact = await server.request('/bootstrap/vigo.mjs');
  if (artifact.status !== 200) throw new Error(`artifact: ${artifact.status}`);
  const agentFile = join(temp.path, 'vigo.mjs');
  writeFileSync(agentFile, artifact.body);
  const token = await createEnrollToken(server, ['bench-agent']);
  const common = ['--state-dir', stateDir, '--log-level', 'warn'];
  const enrolled = await node([
    agentFile,
    'enroll',
    '--server',
    `127.0.0.1:${server.apiPort}`,
    '--token',
    token,
    '--ca',
    join(serverDir, 'tls', 'ca.crt'),
    '--hostname',
    'bench-agent',
    ...common,
  ]);
  if (enrolled.code !== 0) throw new Error(`enroll failed: ${enrolled.stderr}`);
  const first = await node([agentFile, 'run', '--once', ...common]);
  if (first.code !== 0) throw new Error(`first run failed: ${first.stderr}`);
  const noop = await node([agentFile, 'run', '--once', ...common]);
  if (noop.code !== 0) throw new Error(`no-op run failed: ${noop.stderr}`);
  const status = JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')) as {
    startedAtMs: number;
    finishedAtMs: number;
    counts: Record<string, number>;
  };
  const applyMs = status.finishedAtMs - status.startedAtMs;
  const peakMb = Math.max(first.maxRssKb, noop.maxRssKb) / 1024;
  const rows: [string, string, string][] = [
    [`converging run (${resourceCount} files)`, `${first.wallMs.toFixed(0)} ms wall`, ''],
    ['no-op run: apply', `${applyMs} ms`, applyMs <= 1000 ? 'PASS (≤ 1 s)' : 'MISS (≤ 1 s)'],
    ['no-op run: whole process', `${noop.wallMs.toFixed(0)} ms wall`, ''],
    ['no-op outcomes', JSON.stringify(status.counts), ''],
    ['agent peak RSS', `${peakMb.toFixed(1)} MB`, peakMb <= 60 ? 'PASS (≤ 60 MB)' : 'MISS (≤ 60 MB)'],
    ['agent artifact', `${(artifact.body.length / 1024 / 1024).toFixed(2)} MB`, ''],
  ];
  for (const [name, value, verdict] of rows)
    process.stdout.write(`${name.padEnd(34)} ${value.padEnd(26)} ${verdict}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'agent', resources: resourceCount, noopApplyMs: applyMs, noopWallMs: Math.round(noop.wallMs), peakRssMb: Number(peakMb.toFixed(1)) })}\n`,
  );
} finally {
  await server.stop();
  temp.remove();
}
