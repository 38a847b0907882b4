import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findExecutable } from './exec.ts';
import { npmExecutor as ex } from './npm.ts';
import { setup } from './test-context.ts';

const npm = findExecutable('npm');
const skip = npm === undefined ? 'npm is not installed here' : false;

/** `npm pack` of a one-file package: a local tarball, so nothing is fetched from a registry. */
function tarball(dir: string, version: string): string {
  const src = path.join(dir, `src-${version}`);
  fs.mkdirSync(src);
  fs.writeFileSync(
    path.join(src, 'package.json'),
    JSON.stringify({ name: 'vigo-test-tool', version, bin: { 'vigo-test-tool': 'cli.js' } }),
  );
  fs.writeFileSync(path.join(src, 'cli.js'), '#!/usr/bin/env node\nconsole.log("ok");\n');
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: src,
    encoding: 'utf8',
  }).trim();
  return path.join(dir, name);
}

describe('npm executor', { skip }, () => {
  it('installs from a local tarball into a prefix, changes nothing twice, changes version, removes', async (t) => {
    const { dir, ctx } = setup(t);
    const prefix = path.join(dir, 'tools');
    const v1 = tarball(dir, '1.0.0');
    const v2 = tarball(dir, '2.0.0');
    const params = { package: 'vigo-test-tool', version: '1.0.0', source: v1, prefix };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.match(dry.message, /would install 1\.0\.0 of npm package vigo-test-tool in .*tools from /);
    assert.equal(fs.existsSync(prefix), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.ok(fs.existsSync(path.join(prefix, 'bin', 'vigo-test-tool')));
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const up = await ex.apply({ ...params, version: '2.0.0', source: v2 }, ctx());
    assert.equal(up.outcome, 'updated', up.message);
    assert.match(up.message, /changed 1\.0\.0 -> 2\.0\.0/);
    const wrong = await ex.apply({ ...params, version: '3.0.0', source: v1 }, ctx());
    assert.equal(wrong.outcome, 'failed');
    assert.match(wrong.message, /1\.0\.0 is installed after installing from .*, not 3\.0\.0/);
    const gone = await ex.apply({ package: 'vigo-test-tool', prefix, state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.existsSync(path.join(prefix, 'lib', 'node_modules', 'vigo-test-tool')), false);
    assert.equal(
      (await ex.apply({ package: 'vigo-test-tool', prefix, state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('refuses bad names, versions and paths before running npm', async (t) => {
    const { dir, ctx } = setup(t);
    for (const params of [
      { package: '--global', prefix: dir },
      { package: 'ok', version: '1.0; rm -rf /', prefix: dir },
      { package: 'ok', prefix: 'relative' },
      { package: 'ok', source: 'relative.tgz', prefix: dir },
    ]) {
      const r = await ex.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    const failed = await ex.apply(
      { package: 'vigo-test-tool', source: path.join(dir, 'missing.tgz'), prefix: dir },
      ctx(),
    );
    assert.equal(failed.outcome, 'failed');
    assert.match(
      failed.message,
      /npm package vigo-test-tool: `npm install --global --prefix .* -- .*missing\.tgz` failed/,
    );
  });
});
