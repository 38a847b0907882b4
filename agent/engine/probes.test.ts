import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createProbes } from './index.ts';
import { tempDir } from './test-support.ts';

describe('createProbes', () => {
  it('tells files from directories', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'app.conf');
    fs.writeFileSync(file, '');
    fs.symlinkSync(file, path.join(dir, 'link'));
    const probes = createProbes();
    assert.equal(probes.fileExists(file), true);
    assert.equal(probes.fileExists(path.join(dir, 'link')), true);
    assert.equal(probes.fileExists(dir), false);
    assert.equal(probes.fileExists(path.join(dir, 'absent')), false);
    assert.equal(probes.fileExists(path.join(file, 'below')), false);
    assert.equal(probes.dirExists(dir), true);
    assert.equal(probes.dirExists(file), false);
    assert.equal(probes.dirExists(path.join(dir, 'absent')), false);
  });

  it('finds processes by name in a proc tree, including names the kernel truncates', (t) => {
    const proc = tempDir(t);
    const add = (pid: string, comm: string, cmdline: string): void => {
      fs.mkdirSync(path.join(proc, pid));
      fs.writeFileSync(path.join(proc, pid, 'comm'), `${comm}\n`);
      fs.writeFileSync(path.join(proc, pid, 'cmdline'), cmdline);
    };
    add('1', 'systemd', '/sbin/init\0splash\0');
    add('42', 'nginx', 'nginx: master process\0');
    add('77', 'prometheus-node', '/usr/bin/prometheus-node-exporter\0--web.listen-address=:9100\0');
    fs.mkdirSync(path.join(proc, 'self'));
    const probes = createProbes({ procDir: proc });
    assert.equal(probes.processRunning('nginx'), true);
    assert.equal(probes.processRunning('ngin'), false);
    assert.equal(probes.processRunning('prometheus-node-exporter'), true);
    assert.equal(probes.processRunning('prometheus-node-exporter2'), false);
    assert.equal(probes.processRunning(''), false);
    assert.equal(createProbes({ procDir: path.join(proc, 'absent') }).processRunning('nginx'), false);
  });

  it('sees this very process in the real /proc', () => {
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    assert.equal(createProbes().processRunning(comm), true);
  });

  it('runs commands with sh -c and kills them at the timeout', (t) => {
    const dir = tempDir(t);
    const probes = createProbes({ commandTimeoutMs: 300 });
    assert.equal(probes.commandSucceeds(`test -d ${JSON.stringify(dir)} && true`), true);
    assert.equal(probes.commandSucceeds('exit 1'), false);
    assert.equal(probes.commandSucceeds('no-such-command-vigo'), false);
    const started = Date.now();
    assert.equal(probes.commandSucceeds('sleep 20'), false);
    assert.ok(Date.now() - started < 10_000, 'the timeout stopped the command');
  });

  it('uses the given clock for time windows', () => {
    const fixed = new Date(2024, 0, 3, 23, 30);
    assert.equal(createProbes({ now: () => fixed }).now(), fixed);
    const real = createProbes().now().getTime();
    assert.ok(Math.abs(real - Date.now()) < 60_000);
  });
});
