import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createSwapExecutor } from './swap.ts';
import { failed, ok, unixSetup } from './unix-test-support.ts';

/** Whether swapon works on a file in the temp directory (it does not on tmpfs, nor without root). */
function swaponSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for swapon';
  const probe = spawnSync(
    'sh',
    [
      '-c',
      'f=$(mktemp) && dd if=/dev/zero of=$f bs=1M count=2 status=none && chmod 600 $f && mkswap $f >/dev/null && swapon $f && swapoff $f; r=$?; rm -f $f; exit $r',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return probe.status === 0 ? undefined : `swapon is refused here: ${probe.stderr.trim()}`;
}

describe('swap executor', () => {
  it(
    'creates, formats and switches on a real swap file with its fstab line, then switches it off and deletes it',
    { skip: swaponSkipReason() },
    async (t) => {
      const s = unixSetup(t);
      s.put('/etc/fstab', '# static\n');
      const file = s.at('/swapfile');
      // Swap is not namespaced: whatever happens, the file is switched off again.
      t.after(() => spawnSync('swapoff', [file]));
      const ex = createSwapExecutor({ root: s.root });
      const params = { path: file, size: '8M', priority: 7 };
      const dry = await ex.apply(params, s.ctx(true));
      assert.equal(dry.outcome, 'created', dry.message);
      assert.equal(fs.existsSync(file), false);
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'created', r.message);
      assert.equal(fs.statSync(file).size, 8 * 1024 * 1024);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const swaps = fs.readFileSync('/proc/swaps', 'utf8');
      assert.match(swaps, new RegExp(`^${file}\\s+file\\s+\\d+\\s+\\d+\\s+7$`, 'm'));
      assert.equal(fs.readFileSync(s.at('/etc/fstab'), 'utf8'), `# static\n${file} none swap sw,pri=7 0 0\n`);
      assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');
      const gone = await ex.apply({ path: file, state: 'absent' }, s.ctx());
      assert.equal(gone.outcome, 'deleted', gone.message);
      assert.doesNotMatch(fs.readFileSync('/proc/swaps', 'utf8'), new RegExp(file));
      assert.equal(fs.existsSync(file), false);
      assert.equal(fs.readFileSync(s.at('/etc/fstab'), 'utf8'), '# static\n');
    },
  );

  it('remakes a swap file of the wrong size through the swap commands', async (t) => {
    const s = unixSetup(t);
    s.put('/etc/fstab', '');
    const file = s.put('/swapfile', 'x'.repeat(1024));
    const swaps = s.put('/proc-swaps', `Filename Type Size Used Priority\n${file} file 1 0 -2\n`);
    s.script.set('swapoff', () => {
      fs.writeFileSync(swaps, 'Filename Type Size Used Priority\n');
      return ok();
    });
    s.script.set('mkswap', () => ok());
    s.script.set('swapon', () => {
      fs.appendFileSync(swaps, `${file} file 2048 0 -2\n`);
      return ok();
    });
    const ex = createSwapExecutor({ root: s.root, swapsFile: swaps });
    const r = await ex.apply({ path: file, size: '2M' }, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /remade .* at 2097152 bytes \(was 1024\); switched on/);
    assert.deepEqual(
      s.calls.map((c) => c[0]),
      ['swapoff', 'mkswap', 'swapon'],
    );
    assert.equal(fs.statSync(file).size, 2 * 1024 * 1024);
  });

  it('names the command when swapon fails, and refuses bad sizes and paths', async (t) => {
    const s = unixSetup(t);
    s.put('/etc/fstab', '');
    const swaps = s.put('/proc-swaps', 'Filename Type Size Used Priority\n');
    const file = s.put('/swapfile', '');
    s.script.set('swapon', () => failed('swapon: /swapfile: swapon failed: Invalid argument', 255));
    const ex = createSwapExecutor({ root: s.root, swapsFile: swaps });
    const r = await ex.apply({ path: file }, s.ctx());
    assert.equal(
      r.message,
      `swap ${file}: swapon ${file} failed (exit 255): swapon: /swapfile: swapon failed: Invalid argument`,
    );
    for (const params of [
      { path: s.at('/new') },
      { path: s.at('/new'), size: '10T' },
      { path: s.at('/new'), size: '1k' },
      { path: s.at('/new'), size: 'big' },
      { path: 'swapfile', size: '1G' },
      { path: s.at('/a b'), size: '1G' },
      { path: s.at('/new'), size: '1G', priority: '-1' },
    ]) {
      const bad = await ex.apply(params, s.ctx());
      assert.equal(bad.outcome, 'failed', JSON.stringify(params));
    }
    assert.equal(fs.existsSync(s.at('/new')), false);
  });
});
