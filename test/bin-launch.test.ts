/**
 * bin/vigo and bin/vigocli run the prebuilt bundle in dist/bin only while every file it was built
 * from is unchanged, and the TypeScript sources otherwise (edited source, no build, broken
 * manifest), so an edit is never silently ignored. Everything runs in a temporary copy of the
 * sources: the real tree's files and build are not touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from './helpers/server-process.ts';

const copy = makeTempDir('vigo-bin-');
const root = copy.path;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: root, env: { ...process.env, VIGO_BIN_TRACE: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        assert.doesNotMatch(stderr, /DeprecationWarning|ExperimentalWarning|\(node:\d+\)/);
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

const build = (...flags: string[]): Promise<Run> =>
  run(process.execPath, ['scripts/build-bin.mjs', ...flags]);
const vigo = (...args: string[]): Promise<Run> => run(join(root, 'bin', 'vigo'), args);
const vigocli = (...args: string[]): Promise<Run> => run(join(root, 'bin', 'vigocli'), args);
const versionFile = join(root, 'agent', 'runtime', 'version.ts');

function manifestInputs(name: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'dist', 'bin', 'manifest.json'), 'utf8')) as {
    entries: Record<string, { inputs: [string, number, number][] }>;
  };
  return (manifest.entries[name]?.inputs ?? []).map(([input]) => input);
}

before(() => {
  for (const dir of ['agent', 'bin', 'cli', 'gen', 'protocol', 'scripts', 'server'])
    cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(repoRoot, file), join(root, file));
  symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(root, 'node_modules'));
});

after(() => copy.remove());

describe('prebuilt vigo and vigocli', () => {
  it('run from the sources when there is no build', async () => {
    const r = await vigo('version');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'vigo 0.1.0\n');
    assert.match(r.stderr, /^vigo: running the sources: no build/);
  });

  it('run the build when it is fresh', async () => {
    const built = await build();
    assert.equal(built.code, 0, built.stderr);
    assert.ok(manifestInputs('vigo').includes('agent/main.ts'));
    const r = await vigo('version');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'vigo 0.1.0\n');
    assert.equal(r.stderr, 'vigo: running the build dist/bin/vigo.mjs\n');
    const cli = await vigocli('--help');
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^vigocli: the admin command line for vigosrv/);
    assert.equal(cli.stderr, 'vigocli: running the build dist/bin/vigocli.mjs\n');
  });

  it('run the edited sources, not the old build, once a source changes', async () => {
    writeFileSync(versionFile, readFileSync(versionFile, 'utf8').replace("'0.1.0'", "'0.1.0-edited'"));
    const r = await vigo('version');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'vigo 0.1.0-edited\n');
    assert.match(r.stderr, /^vigo: running the sources: agent\/runtime\/version\.ts changed since the build/);
    // Each command checks its own inputs: one the edit does not reach keeps its build.
    const cli = await vigocli('--help');
    assert.equal(cli.code, 0, cli.stderr);
    const expected = manifestInputs('vigocli').includes('agent/runtime/version.ts') ? 'sources' : 'build';
    assert.match(cli.stderr, new RegExp(`^vigocli: running the ${expected}`));
    const rebuilt = await build();
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const again = await vigo('version');
    assert.equal(again.stdout, 'vigo 0.1.0-edited\n');
    assert.match(again.stderr, /running the build/);
  });

  it('run from the sources when the manifest is damaged', async () => {
    writeFileSync(join(root, 'dist', 'bin', 'manifest.json'), '{"format":1,"entries":');
    const r = await vigo('version');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /running the sources: unreadable build manifest/);
  });

  it('leave no build when a module could not work from dist/bin, and say why', async () => {
    writeFileSync(
      versionFile,
      `${readFileSync(versionFile, 'utf8')}export const here = import.meta.dirname;\n`,
    );
    const strict = await build();
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /agent\/runtime\/version\.ts/);
    const lenient = await build('--if-possible');
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stderr, /run from the sources/);
    assert.equal(existsSync(join(root, 'dist', 'bin')), false);
    const r = await vigo('version');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /running the sources: no build/);
    rmSync(join(root, 'dist'), { recursive: true, force: true });
  });
});
