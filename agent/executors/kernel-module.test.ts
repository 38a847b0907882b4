import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createKernelModuleExecutor } from './kernel-module.ts';
import { failed, ok, unixSetup, type UnixTestSetup } from './unix-test-support.ts';

/** A stand-in modprobe that loads and unloads by creating and removing /sys/module/<name>. */
function fakeModprobe(s: UnixTestSetup, sys: string): void {
  s.script.set('modprobe', (args) => {
    const name = (args[args.length - 1] ?? '').replaceAll('-', '_');
    if (args[0] === '-r') fs.rmSync(`${sys}/${name}`, { recursive: true, force: true });
    else fs.mkdirSync(`${sys}/${name}`, { recursive: true });
    return ok();
  });
}

describe('kernel_module executor', () => {
  it('loads the module and persists it in modules-load.d, then changes nothing', async (t) => {
    const s = unixSetup(t);
    const sys = s.at('/sys-module');
    fs.mkdirSync(sys);
    fakeModprobe(s, sys);
    const ex = createKernelModuleExecutor({
      root: s.root,
      sysModuleDir: sys,
      modulesBuiltin: s.at('/no-builtin'),
    });
    const dry = await ex.apply({ module: 'br_netfilter' }, s.ctx(true));
    assert.equal(dry.outcome, 'created');
    assert.match(
      dry.message,
      /would create .*modules-load\.d\/br_netfilter\.conf.*; would load br_netfilter$/,
    );
    assert.deepEqual(s.calls, []);
    const r = await ex.apply({ module: 'br_netfilter', options: 'hashsize=1024' }, s.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(s.at('/etc/modules-load.d/br_netfilter.conf'), 'utf8'), 'br_netfilter\n');
    assert.equal(
      fs.readFileSync(s.at('/etc/modprobe.d/br_netfilter.conf'), 'utf8'),
      'options br_netfilter hashsize=1024\n',
    );
    assert.deepEqual(s.calls, [['modprobe', '--', 'br_netfilter']]);
    assert.equal(
      (await ex.apply({ module: 'br_netfilter', options: 'hashsize=1024' }, s.ctx())).outcome,
      'none',
    );
    const opts = await ex.apply({ module: 'br_netfilter', options: 'hashsize=2048' }, s.ctx());
    assert.equal(opts.outcome, 'updated');
    assert.match(opts.message, /the new options apply at its next load/);
  });

  it('blacklists: writes the blacklist file, drops the load file and unloads; absent unloads only', async (t) => {
    const s = unixSetup(t);
    const sys = s.at('/sys-module');
    fs.mkdirSync(`${sys}/pcspkr`, { recursive: true });
    fakeModprobe(s, sys);
    s.put('/etc/modules-load.d/pcspkr.conf', 'pcspkr\n');
    const ex = createKernelModuleExecutor({
      root: s.root,
      sysModuleDir: sys,
      modulesBuiltin: s.at('/no-builtin'),
    });
    const r = await ex.apply({ module: 'pcspkr', state: 'blacklisted' }, s.ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(
      fs.readFileSync(s.at('/etc/modprobe.d/blacklist-pcspkr.conf'), 'utf8'),
      'blacklist pcspkr\n',
    );
    assert.equal(fs.existsSync(s.at('/etc/modules-load.d/pcspkr.conf')), false);
    assert.equal(fs.existsSync(`${sys}/pcspkr`), false);
    assert.deepEqual(s.calls, [['modprobe', '-r', '--', 'pcspkr']]);
    assert.equal((await ex.apply({ module: 'pcspkr', state: 'blacklisted' }, s.ctx())).outcome, 'none');
    // present again lifts the blacklist
    const back = await ex.apply({ module: 'pcspkr', persist: false }, s.ctx());
    assert.equal(back.outcome, 'created', back.message);
    assert.equal(fs.existsSync(s.at('/etc/modprobe.d/blacklist-pcspkr.conf')), false);
    assert.equal(fs.existsSync(s.at('/etc/modules-load.d/pcspkr.conf')), false);
    const gone = await ex.apply({ module: 'pcspkr', state: 'absent' }, s.ctx());
    assert.equal(gone.outcome, 'deleted');
    assert.equal(fs.existsSync(`${sys}/pcspkr`), false);
  });

  it('names the module and command when modprobe fails or has no effect', async (t) => {
    const s = unixSetup(t);
    const sys = s.at('/sys-module');
    fs.mkdirSync(sys);
    s.script.set('modprobe', () =>
      failed('modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0'),
    );
    const ex = createKernelModuleExecutor({
      root: s.root,
      sysModuleDir: sys,
      modulesBuiltin: s.at('/no-builtin'),
    });
    const r = await ex.apply({ module: 'nosuch', persist: false }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.equal(
      r.message,
      'kernel_module nosuch: modprobe -- nosuch failed (exit 1): modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0',
    );
    s.script.set('modprobe', () => ok());
    const silent = await ex.apply({ module: 'nosuch', persist: false }, s.ctx());
    assert.match(silent.message, /modprobe succeeded but the module is not loaded/);
  });

  it('counts a built-in module as loaded and refuses to unload it', async (t) => {
    const s = unixSetup(t);
    const builtin = s.put('/modules.builtin', 'kernel/net/ipv4/tcp_bbr.ko\nkernel/drivers/block/loop.ko\n');
    const ex = createKernelModuleExecutor({
      root: s.root,
      sysModuleDir: s.at('/sys-module'),
      modulesBuiltin: builtin,
    });
    const r = await ex.apply({ module: 'tcp-bbr', persist: false }, s.ctx());
    assert.equal(r.outcome, 'none', r.message);
    const off = await ex.apply({ module: 'loop', state: 'absent' }, s.ctx());
    assert.equal(off.outcome, 'none', 'not loaded as a module: nothing to unload');
    fs.mkdirSync(s.at('/sys-module/loop'), { recursive: true });
    const unload = await ex.apply({ module: 'loop', state: 'absent' }, s.ctx());
    assert.match(unload.message, /built into the kernel and cannot be unloaded/);
    assert.deepEqual(s.calls, []);
  });

  it('refuses names and options that could reach modprobe as flags or break the files', async (t) => {
    const s = unixSetup(t);
    const ex = createKernelModuleExecutor({ root: s.root, sysModuleDir: s.at('/sys-module') });
    for (const params of [
      { module: '-r' },
      { module: '../../etc/passwd' },
      { module: 'a b' },
      { module: 'ok', state: 'loaded' },
      { module: 'ok', options: 'x=1\ninstall ok /bin/sh' },
      { module: 'ok', options: 'x=$(reboot)' },
      { module: 'ok', options: 'noequals' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.deepEqual(s.calls, []);
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
