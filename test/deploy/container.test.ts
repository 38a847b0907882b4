/**
 * deploy/Containerfile, its ignore file and deploy/compose.yaml, checked without a container engine (the
 * image is not built here): the instructions parse, the final stage runs vigosrv as an unprivileged user
 * under tini with /srv/vigo as a volume, every path and flag they name exists in this repository and
 * vigosrv, the packages the image installs (dependencies without devDependencies) cover every import of
 * the server, and the HEALTHCHECK command itself answers healthy against a real vigosrv and unhealthy
 * once it is gone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { makeTempDir, repoRoot, startServer, vigosrvBin } from '../helpers/server-process.ts';

const run = promisify(execFile);
let help: Promise<string> | undefined;
/** vigosrv --help, run once. */
const helpText = (): Promise<string> => (help ??= run(vigosrvBin, ['--help']).then((r) => r.stdout));
const temps: { remove(): void }[] = [];
after(() => temps.forEach((t) => t.remove()));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Containerfile instructions: comments dropped, backslash continuations joined. */
function parseContainerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    const match = /^([A-Za-z]+)\s+(.*)$/s.exec(current);
    assert.ok(match, `not an instruction: ${current}`);
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
    current = '';
  }
  assert.equal(current, '', 'the file ends inside a continued line');
  return instructions;
}

const known = new Set(
  'FROM RUN CMD LABEL EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL'.split(
    ' ',
  ),
);

const containerfile = parseContainerfile(readFileSync(join(repoRoot, 'deploy', 'Containerfile'), 'utf8'));
const finalStage = containerfile.slice(containerfile.map((i) => i.keyword).lastIndexOf('FROM'));

function only(keyword: string): string {
  const found = finalStage.filter((i) => i.keyword === keyword);
  assert.equal(found.length, 1, `one ${keyword} in the final stage`);
  return found[0]!.args;
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `exec form: ${args}`);
  return parsed;
}

/** An image path under /opt/vigo as the file in this repository. */
function inRepo(imagePath: string): string {
  assert.ok(imagePath.startsWith('/opt/vigo/'), `${imagePath} is in the copied repository`);
  return join(repoRoot, imagePath.slice('/opt/vigo/'.length));
}

describe('deploy/Containerfile', () => {
  it('parses into known instructions in two stages', () => {
    for (const i of containerfile) assert.ok(known.has(i.keyword), `unknown instruction ${i.keyword}`);
    assert.equal(containerfile.filter((i) => i.keyword === 'FROM').length, 2);
    assert.match(containerfile[0]!.args, /^\S+ AS build$/);
  });

  it('runs vigosrv --system under tini as an unprivileged user with /srv/vigo as a volume', async () => {
    assert.deepEqual(execForm(only('ENTRYPOINT')), ['/usr/bin/tini', '--']);
    assert.match(only('RUN'), /apt-get install -y --no-install-recommends tini/);
    const user = only('USER');
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    assert.match(only('RUN'), new RegExp(`useradd --system --uid \\d+ --gid ${user.split(':')[1]}`));
    assert.deepEqual(execForm(only('VOLUME')), ['/srv/vigo']);
    const [binary, ...flags] = execForm(only('CMD'));
    assert.ok(existsSync(inRepo(binary!)), `${binary} exists`);
    const { stdout } = await run(vigosrvBin, [...flags, '--version']);
    assert.match(stdout, /^vigosrv /);
    assert.ok(flags.includes('--system'), 'system mode keeps the data in /srv/vigo');
  });

  it('exposes the default listen ports and health-checks /readyz with a script that exists', async () => {
    const help = await helpText();
    const defaults = [...help.matchAll(/server\.(?:grpc|api)_listen[^\n]*\n[^\n]*\n\s+default: ":(\d+)"/g)];
    assert.deepEqual(only('EXPOSE').split(/\s+/).sort(), defaults.map((m) => m[1]!).sort());
    const health = only('HEALTHCHECK');
    const cmd = /CMD (\[.*\])$/.exec(health);
    assert.ok(cmd, health);
    const [node, script] = execForm(cmd[1]!);
    assert.equal(node, 'node');
    assert.ok(existsSync(inRepo(script!)));
    assert.match(readFileSync(inRepo(script!), 'utf8'), /\/readyz/);
  });

  it('builds from a context without node_modules, dist or .git', () => {
    const ignored = readFileSync(join(repoRoot, 'deploy', 'Containerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), entry);
  });

  it('installs every package the server, agent and CLI import (npm ci --omit=dev)', () => {
    assert.match(containerfile.map((i) => i.args).join('\n'), /npm ci --omit=dev/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const missing: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const file = join(dir, name);
        // lstat: fixtures hold symlinks (a device's driver link) that point nowhere outside their host tree.
        const entry = lstatSync(file);
        if (entry.isSymbolicLink()) continue;
        if (entry.isDirectory()) walk(file);
        else if (/\.(ts|mjs|cjs)$/.test(name) && !name.endsWith('.test.ts')) {
          const text = readFileSync(file, 'utf8');
          for (const m of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)'([^'.][^']*)'/g)) {
            if (m[1]!.startsWith('node:')) continue;
            const spec = m[1]!;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            if (!allowed.has(name)) missing.push(`${relative(repoRoot, file)}: ${spec}`);
          }
        }
      }
    };
    for (const dir of ['server', 'agent', 'cli', 'protocol', 'gen', 'bin', 'web']) {
      if (existsSync(join(repoRoot, dir))) walk(join(repoRoot, dir));
    }
    assert.deepEqual(missing, []);
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync(join(repoRoot, 'deploy', 'compose.yaml'), 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };
  const service = compose.services['vigosrv'];

  it('builds deploy/Containerfile from the repository root and keeps /srv/vigo on a named volume', () => {
    assert.ok(service);
    const build = service['build'] as { context: string; dockerfile: string };
    const context = join(repoRoot, 'deploy', build.context);
    assert.equal(context, repoRoot);
    assert.ok(existsSync(join(context, build.dockerfile)));
    const volumes = service['volumes'] as string[];
    const [volume, target] = volumes[0]!.split(':');
    assert.equal(target, '/srv/vigo');
    assert.ok(volume !== undefined && volume in compose.volumes);
  });

  it('waits longer than the drain budget, raises the open-file limit and names real settings', async () => {
    const help = await helpText();
    const budget = /shutdown\.budget[^\n]*\n[^\n]*\n\s+default: "(\d+)s"/.exec(help);
    assert.ok(budget);
    const grace = /^(\d+)s$/.exec(String(service!['stop_grace_period']));
    assert.ok(grace && Number(grace[1]) > Number(budget[1]));
    const nofile = (service!['ulimits'] as { nofile: { soft: number; hard: number } }).nofile;
    assert.ok(nofile.soft >= 65536 && nofile.hard >= nofile.soft);
    for (const name of Object.keys(service!['environment'] as Record<string, string>)) {
      assert.ok(help.includes(`[${name}`) || help.includes(` ${name}]`) || help.includes(`[${name},`), name);
    }
    for (const port of service!['ports'] as string[]) assert.match(port, /^(\d+):\1$/);
  });
});

describe('deploy/healthcheck.mjs (the HEALTHCHECK command)', () => {
  it('is healthy while vigosrv serves and unhealthy once it has stopped', async () => {
    const data = makeTempDir('vigo-health-');
    temps.push(data);
    const server = await startServer({ dataDir: data.path });
    const env = {
      ...process.env,
      VIGO_HEALTHCHECK_URL: `https://127.0.0.1:${server.apiPort}/readyz`,
      VIGO_HEALTHCHECK_CA: join(data.path, 'tls', 'ca.crt'),
    };
    const script = join(repoRoot, 'deploy', 'healthcheck.mjs');
    await run(process.execPath, [script], { env });
    assert.equal(await server.stop(), 0);
    await assert.rejects(
      run(process.execPath, [script], { env }),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? '', /^vigosrv health check: .*ECONNREFUSED/);
        return true;
      },
    );
    await assert.rejects(
      run(process.execPath, [script], {
        env: { ...env, VIGO_HEALTHCHECK_CA: join(data.path, 'missing.crt') },
      }),
      (err: { code?: number }) => err.code === 1,
    );
  });
});
