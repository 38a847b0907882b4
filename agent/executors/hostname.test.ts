import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createHostnameExecutor } from './hostname.ts';
import { namespaceSkipReason, ok, runInNamespace, unixSetup } from './unix-test-support.ts';

const module = path.join(import.meta.dirname, 'hostname.ts');
const skip = namespaceSkipReason(['--uts']);

describe('hostname executor', () => {
  it(
    'sets the running name and /etc/hostname inside a UTS namespace, then changes nothing',
    { skip },
    (t) => {
      const s = unixSetup(t);
      s.put('/etc/hostname', 'old-name\n');
      const real = os.hostname();
      const run = runInNamespace(['--uts'], {
        module,
        factory: 'createHostnameExecutor',
        options: { root: s.root },
        before: [['hostname', 'before-name']],
        steps: [
          { params: { hostname: 'web-01.example.com' }, dryRun: true },
          { params: { hostname: 'web-01.example.com' } },
          { params: { hostname: 'web-01.example.com' } },
        ],
        after: [['hostname']],
      });
      const [dry, set, again] = run.results;
      assert.equal(dry?.outcome, 'updated');
      assert.equal(
        dry?.message,
        'would set running name before-name -> web-01.example.com, /etc/hostname old-name -> web-01.example.com',
      );
      assert.equal(set?.outcome, 'updated', set?.message);
      assert.equal(again?.outcome, 'none', again?.message);
      assert.equal(run.after[0]?.stdout.trim(), 'web-01.example.com');
      assert.equal(fs.readFileSync(s.at('/etc/hostname'), 'utf8'), 'web-01.example.com\n');
      assert.equal(os.hostname(), real, 'the host outside the namespace keeps its name');
    },
  );

  it('uses hostnamectl where systemd runs and reports its failure with the command', async (t) => {
    const s = unixSetup(t);
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    s.script.set('hostnamectl', () => ({
      exitCode: 1,
      stdout: '',
      stderr: 'Could not set hostname: Access denied',
      timedOut: false,
    }));
    const ex = createHostnameExecutor({ root: s.root, kernelHostnameFile: s.at('/kernel-hostname') });
    const r = await ex.apply({ hostname: `${os.hostname()}-other` }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /^hostname .*-other: hostnamectl set-hostname .*-other failed \(exit 1\): Could not set hostname: Access denied$/,
    );
    s.script.set('hostnamectl', () => ok());
    const unverified = await ex.apply({ hostname: `${os.hostname()}-other` }, s.ctx());
    assert.match(unverified.message, /after setting it the host reports/);
  });

  it('refuses names that are not host names, touching nothing', async (t) => {
    const s = unixSetup(t);
    const ex = createHostnameExecutor({ root: s.root, kernelHostnameFile: s.at('/kernel-hostname') });
    for (const hostname of ['-rf', 'a b', 'x'.repeat(65), 'bad_name!', 'a..b', '']) {
      const r = await ex.apply({ hostname }, s.ctx());
      assert.equal(r.outcome, 'failed', hostname);
    }
    assert.deepEqual(s.calls, []);
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
