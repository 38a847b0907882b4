import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findExecutable } from './exec.ts';
import { gemExecutor as ex, parseGemList } from './gem.ts';
import { setup } from './test-context.ts';

const realGem = findExecutable('gem');

/**
 * A stand-in `gem` that keeps one installed version in a file and logs its argv: the command contract
 * (which arguments, which environment) is checked on machines without Ruby.
 */
function fakeGem(dir: string): { gem: string; log: string } {
  const gem = path.join(dir, 'gem');
  const log = path.join(dir, 'argv.log');
  const state = path.join(dir, 'installed');
  fs.writeFileSync(
    gem,
    `#!/bin/sh
echo "GEM_HOME=$GEM_HOME $*" >> '${log}'
case "$1" in
  list) [ -f '${state}' ] && echo "vigo-demo ($(cat '${state}'))"; exit 0 ;;
  install)
    v=""; last=""
    while [ $# -gt 0 ]; do
      [ "$1" = --version ] && v="$2"
      last="$1"; shift
    done
    [ -z "$v" ] && v=$(basename "$last" .gem | sed 's/^vigo-demo-//')
    echo "$v" > '${state}' ;;
  uninstall) rm -f '${state}' ;;
esac
`,
    { mode: 0o755 },
  );
  return { gem, log };
}

describe('gem executor', () => {
  it('reads gem list output, default gems included', () => {
    assert.deepEqual(parseGemList('rake (13.1.0, default: 13.0.6)\nrakeish (1.0)\n', 'rake'), [
      '13.1.0',
      '13.0.6',
    ]);
    assert.deepEqual(parseGemList('\n*** LOCAL GEMS ***\n\n', 'rake'), []);
  });

  it('installs, pins a version, and removes through the gem command with GEM_HOME set', async (t) => {
    const { dir, ctx } = setup(t);
    const { gem, log } = fakeGem(dir);
    const installDir = path.join(dir, 'gems');
    const params = { package: 'vigo-demo', version: '1.2.0', gem, install_dir: installDir };
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const local = await ex.apply(
      { ...params, version: '1.3.0', source: path.join(dir, 'vigo-demo-1.3.0.gem') },
      ctx(),
    );
    assert.equal(local.outcome, 'updated', local.message);
    const gone = await ex.apply(
      { package: 'vigo-demo', gem, install_dir: installDir, state: 'absent' },
      ctx(),
    );
    assert.equal(gone.outcome, 'deleted', gone.message);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    const calls = lines.filter((l) => !l.includes(' list '));
    assert.deepEqual(calls, [
      `GEM_HOME=${installDir} install --no-document --install-dir ${installDir} --version 1.2.0 -- vigo-demo`,
      `GEM_HOME=${installDir} install --no-document --local --install-dir ${installDir} -- ${dir}/vigo-demo-1.3.0.gem`,
      `GEM_HOME=${installDir} uninstall --all --executables --ignore-dependencies --install-dir ${installDir} -- vigo-demo`,
    ]);
    assert.ok(lines.every((l) => l.startsWith(`GEM_HOME=${installDir} `)));
  });

  it(
    'installs a locally built gem with the real gem program',
    { skip: realGem === undefined ? 'gem (Ruby) is not installed here' : false },
    async (t) => {
      const { dir, ctx } = setup(t);
      const src = path.join(dir, 'src');
      fs.mkdirSync(path.join(src, 'lib'), { recursive: true });
      fs.writeFileSync(path.join(src, 'lib', 'vigo_demo.rb'), 'module VigoDemo; end\n');
      fs.writeFileSync(
        path.join(src, 'vigo-demo.gemspec'),
        'Gem::Specification.new { |s| s.name = "vigo-demo"; s.version = "1.2.0"; s.summary = "t"; s.authors = ["t"]; s.files = ["lib/vigo_demo.rb"] }\n',
      );
      execFileSync(realGem ?? 'gem', ['build', 'vigo-demo.gemspec'], { cwd: src, stdio: 'ignore' });
      const installDir = path.join(dir, 'gems');
      const params = {
        package: 'vigo-demo',
        version: '1.2.0',
        source: path.join(src, 'vigo-demo-1.2.0.gem'),
        install_dir: installDir,
      };
      assert.equal((await ex.apply(params, ctx())).outcome, 'created');
      assert.equal((await ex.apply(params, ctx())).outcome, 'none');
      assert.equal(
        (await ex.apply({ package: 'vigo-demo', install_dir: installDir, state: 'absent' }, ctx())).outcome,
        'deleted',
      );
    },
  );
});
