/**
 * Agent footprint: the bundled agent (the vigo.mjs /bootstrap serves) enrolls with a real server,
 * converges a bundle of 100 file resources (or, with `--mix mixed`, 300 resources of ten kinds: file,
 * directory, symlink, file_line, blockinfile, ini, json_file, field_edit, exec with a guard, replace, and a
 * package query every hundred), then runs again with nothing to do. Prints the no-op run's apply time and
 * process wall time, and the agent's peak RSS, against the targets (≤ 1 s, ≤ 60 MB). Everything it
 * manages lives in a temporary directory (the package resource only asks that coreutils be present).
 *
 *   npm run bench:agent [-- --resources N] [-- --mix files|mixed]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEnrollToken } from '../test/helpers/agent-client.ts';
import { makeTempDir, startServer } from '../test/helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from '../test/helpers/vigocli.ts';

const { values } = parseArgs({
  options: { resources: { type: 'string' }, mix: { type: 'string', default: 'files' } },
});
if (values.mix !== 'files' && values.mix !== 'mixed') throw new Error('--mix is files or mixed');
const mixed = values.mix === 'mixed';
const resourceCount = Number(values.resources ?? (mixed ? '300' : '100'));

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

const fileResource = (i: number): string =>
  `  - name: f${i}\n    type: file\n    target_path: ${managed}/f${i}.conf\n    content: "line ${i}\\n"\n    mode: "0644"\n`;

/**
 * Resource i of the mixed bundle, by i mod 10; the files the editing kinds change are written before the
 * first run (seed), as they would be on a real host.
 */
function mixedResource(i: number): string {
  const seed = (name: string, content: string): string => {
    writeFileSync(join(managed, name), content);
    return `${managed}/${name}`;
  };
  const head = (type: string) => `  - name: r${i}\n    type: ${type}\n`;
  if (i % 100 === 99) return `${head('package')}    package: coreutils\n    state: present\n`;
  switch (i % 10) {
    case 1:
      return `${head('directory')}    path: ${managed}/d${i}\n    mode: "0755"\n`;
    case 2:
      return `${head('symlink')}    target_path: ${managed}/l${i}\n    link_to: ${managed}/f${i - 2}.conf\n`;
    case 3:
      return `${head('file_line')}    target_path: ${seed(`s${i}.txt`, 'a = 1\n')}\n    line: "key${i} = on"\n`;
    case 4:
      return `${head('blockinfile')}    target_path: ${seed(`s${i}.txt`, 'top\n')}\n    block: "x = ${i}\\n"\n`;
    case 5:
      return `${head('ini')}    target_path: ${seed(`s${i}.ini`, '[main]\n')}\n    section: main\n    key: k${i}\n    value: v\n`;
    case 6:
      return `${head('json_file')}    target_path: ${seed(`s${i}.json`, '{}\n')}\n    key: k${i}\n    value: v\n`;
    case 7:
      return `${head('field_edit')}    target_path: ${seed(`s${i}.env`, 'A=1\n')}\n    key: K${i}\n    value: "1"\n`;
    case 8:
      return `${head('exec')}    command: "true"\n    creates: ${managed}/f${i - 8}.conf\n`;
    case 9:
      return `${head('replace')}    target_path: ${seed(`s${i}.txt`, 'old ${i}\n')}\n    pattern: old\n    replacement: new\n`;
    default:
      return fileResource(i);
  }
}

function stack(): string {
  const dir = join(temp.path, 'stack');
  mkdirSync(join(dir, 'configcrates'), { recursive: true });
  const resources = Array.from({ length: resourceCount }, (_, i) =>
    mixed ? mixedResource(i) : fileResource(i),
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
    [
      `converging run (${resourceCount} ${mixed ? 'mixed resources' : 'files'})`,
      `${first.wallMs.toFixed(0)} ms wall`,
      '',
    ],
    ['no-op run: apply', `${applyMs} ms`, applyMs <= 1000 ? 'PASS (≤ 1 s)' : 'MISS (≤ 1 s)'],
    ['no-op run: whole process', `${noop.wallMs.toFixed(0)} ms wall`, ''],
    ['no-op outcomes', JSON.stringify(status.counts), ''],
    ['agent peak RSS', `${peakMb.toFixed(1)} MB`, peakMb <= 60 ? 'PASS (≤ 60 MB)' : 'MISS (≤ 60 MB)'],
    [
      '  converging run / no-op run',
      `${(first.maxRssKb / 1024).toFixed(1)} / ${(noop.maxRssKb / 1024).toFixed(1)} MB`,
      '',
    ],
    ['agent artifact', `${(artifact.body.length / 1024 / 1024).toFixed(2)} MB`, ''],
  ];
  for (const [name, value, verdict] of rows)
    process.stdout.write(`${name.padEnd(34)} ${value.padEnd(26)} ${verdict}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'agent', mix: values.mix, resources: resourceCount, noopApplyMs: applyMs, noopWallMs: Math.round(noop.wallMs), peakRssMb: Number(peakMb.toFixed(1)) })}\n`,
  );
} finally {
  await server.stop();
  temp.remove();
}
