import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogFields } from '../core/index.ts';
import { VigoError, createLogger } from '../core/index.ts';
import { createAgentArtifactSource } from './agent-artifact.ts';
import type { AgentArtifactOptions } from './agent-artifact.ts';
import { artifactKey, sha256Hex } from './artifact-cache.ts';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigo-'));
  temps.push(dir);
  return dir;
}

/**
 * A tiny agent: an ES module entry, a second source file, and a CommonJS dependency that require()s a
 * Node built-in, which only works in an ESM bundle when the banner defines require.
 */
function writeFixture(root: string): string {
  mkdirSync(path.join(root, 'src'), { recursive: true });
  writeFileSync(
    path.join(root, 'src', 'main.ts'),
    "import { greeting } from './greet.ts';\nimport platform from 'fake-cjs';\n" +
      "const name: string = 'fixture';\nconsole.log(`${greeting} ${name} ${platform}`);\n",
  );
  writeFileSync(path.join(root, 'src', 'greet.ts'), "export const greeting: string = 'hello';\n");
  const pkg = path.join(root, 'node_modules', 'fake-cjs');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), '{"name":"fake-cjs","version":"1.0.0","main":"index.js"}\n');
  writeFileSync(path.join(pkg, 'index.js'), "module.exports = require('node:os').platform();\n");
  return path.join(root, 'src', 'main.ts');
}

function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: LogFields[] } {
  const lines: LogFields[] = [];
  const log = createLogger({
    level: 'debug',
    sink: { write: (line) => lines.push(JSON.parse(line) as LogFields) },
  });
  return { log, lines };
}

function setup(overrides: Partial<AgentArtifactOptions> = {}): AgentArtifactOptions & { lines: LogFields[] } {
  const root = tempDir();
  const entry = writeFixture(root);
  const { log, lines } = capturingLogger();
  return {
    entry,
    rootDir: root,
    cacheDir: path.join(root, 'data', 'bootstrap'),
    serverVersion: '1.2.3',
    log,
    lines,
    ...overrides,
  };
}

function count(lines: LogFields[], msg: string): number {
  return lines.filter((line) => line['msg'] === msg).length;
}

describe('agent artifact', () => {
  it('bundles the entry into one ES module that runs on node, requiring CommonJS built-ins', async () => {
    const options = setup();
    const artifact = await createAgentArtifactSource(options).get();
    assert.equal(artifact.origin, 'built');
    assert.equal(artifact.sha256, sha256Hex(artifact.bytes));
    assert.match(artifact.fileName, /^vigo-1\.2\.3-[0-9a-f]{16}\.mjs$/);
    const onDisk = readFileSync(path.join(options.cacheDir, artifact.fileName));
    assert.equal(sha256Hex(onDisk), artifact.sha256);

    // Run it far from the sources: it must need nothing but node.
    const runDir = tempDir();
    writeFileSync(path.join(runDir, 'vigo.mjs'), artifact.bytes);
    const output = execFileSync(process.execPath, [path.join(runDir, 'vigo.mjs')], { cwd: runDir });
    assert.equal(output.toString(), `hello fixture ${process.platform}\n`);
  });

  it('shares one build between concurrent requests and serves later ones from memory', async () => {
    const options = setup();
    const source = createAgentArtifactSource(options);
    const [a, b, c] = await Promise.all([source.get(), source.get(), source.get()]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(await source.get(), a);
    assert.equal(count(options.lines, 'bootstrap agent artifact ready'), 1);
  });

  it('reuses the disk cache after a restart while the sources are unchanged, and rebuilds when one changes', async () => {
    const options = setup();
    const first = await createAgentArtifactSource(options).get();

    const restarted = await createAgentArtifactSource(options).get();
    assert.equal(restarted.origin, 'disk');
    assert.equal(restarted.fileName, first.fileName);
    assert.equal(restarted.sha256, first.sha256);

    const greet = path.join(options.rootDir, 'src', 'greet.ts');
    writeFileSync(greet, "export const greeting: string = 'hi';\n");
    const changed = await createAgentArtifactSource(options).get();
    assert.equal(changed.origin, 'built');
    assert.notEqual(changed.fileName, first.fileName);
    assert.notEqual(changed.sha256, first.sha256);
    assert.deepEqual(readdirSync(options.cacheDir).sort(), [changed.fileName, `${changed.fileName}.json`]);

    // A change to a dependency counts as much as one to the agent's own code.
    writeFileSync(
      path.join(options.rootDir, 'node_modules', 'fake-cjs', 'index.js'),
      "module.exports = require('node:os').arch();\n",
    );
    const depChanged = await createAgentArtifactSource(options).get();
    assert.equal(depChanged.origin, 'built');
    assert.notEqual(depChanged.fileName, changed.fileName);
  });

  it('keys on content, server version and location-independent paths', async () => {
    const options = setup();
    const built = await createAgentArtifactSource(options).get();
    const manifest = JSON.parse(
      readFileSync(path.join(options.cacheDir, `${built.fileName}.json`), 'utf8'),
    ) as { key: string; inputs: string[]; recipe: string; esbuildVersion: string };
    assert.ok(manifest.inputs.includes('src/greet.ts'), manifest.inputs.join(', '));
    assert.ok(built.fileName.includes(manifest.key.slice(0, 16)));
    const parts = { ...manifest, serverVersion: '1.2.3' };
    assert.equal(artifactKey(options.rootDir, parts), manifest.key);

    const moved = tempDir();
    cpSync(options.rootDir, moved, { recursive: true });
    assert.equal(artifactKey(moved, parts), manifest.key, 'a moved checkout keeps its key');
    assert.notEqual(artifactKey(moved, { ...parts, serverVersion: '1.2.4' }), manifest.key);
    assert.notEqual(artifactKey(moved, { ...parts, recipe: `${parts.recipe} ` }), manifest.key);
    rmSync(path.join(moved, 'src', 'greet.ts'));
    assert.notEqual(artifactKey(moved, parts), manifest.key, 'a deleted source changes the key');
  });

  it('does not trust a damaged cached artifact', async () => {
    const options = setup();
    const first = await createAgentArtifactSource(options).get();
    writeFileSync(path.join(options.cacheDir, first.fileName), 'console.log("tampered");\n');
    const again = await createAgentArtifactSource(options).get();
    assert.equal(again.origin, 'built');
    assert.equal(again.sha256, first.sha256);
  });

  it('still serves from memory when the cache directory cannot be written', async () => {
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    const options = setup({ cacheDir: path.join(blocker, 'bootstrap') });
    const artifact = await createAgentArtifactSource(options).get();
    assert.equal(artifact.origin, 'built');
    assert.equal(count(options.lines, 'bootstrap agent artifact not cached on disk'), 1);
  });

  it('fails a broken build with bootstrap.agent_unavailable, logs why, and waits before trying again', async () => {
    let nowMs = 1_000_000;
    const options = setup({ retryAfterMs: 30_000, nowMs: () => nowMs });
    const greet = path.join(options.rootDir, 'src', 'greet.ts');
    writeFileSync(greet, 'export const greeting: string = ;\n');
    const source = createAgentArtifactSource(options);

    const failure = await source.get().then(
      () => assert.fail('the build should fail'),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof VigoError);
    assert.equal(failure.code, 'bootstrap.agent_unavailable');
    assert.equal(failure.kind, 'unavailable');
    assert.equal(failure.details['retryAfterSeconds'], 30);
    assert.doesNotMatch(
      failure.message,
      new RegExp(options.rootDir),
      'no server paths for anonymous callers',
    );
    const logged = options.lines.filter((line) => line['msg'] === 'bootstrap agent build failed');
    assert.equal(logged.length, 1);
    assert.match(JSON.stringify(logged[0]?.['errors']), /src\/greet\.ts:1:\d+: .*Unexpected/);

    writeFileSync(greet, "export const greeting: string = 'fixed';\n");
    nowMs += 29_000;
    await assert.rejects(source.get(), (err: unknown) => err === failure);
    assert.equal(count(options.lines, 'bootstrap agent build failed'), 1, 'no build inside the window');

    nowMs += 2_000;
    const artifact = await source.get();
    assert.equal(artifact.origin, 'built');
  });

  it('reports a missing entry the same way', async () => {
    const options = setup();
    const source = createAgentArtifactSource({ ...options, entry: path.join(options.rootDir, 'nope.ts') });
    await assert.rejects(source.get(), { code: 'bootstrap.agent_unavailable' });
    assert.equal(count(options.lines, 'bootstrap agent build failed'), 1);
  });
});
