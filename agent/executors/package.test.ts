import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { findExecutable } from './exec.ts';
import { createPackageExecutor, detectPackageProvider, packageExecutor, versionMatches } from './package.ts';
import type { CommandOptions, CommandResult, CommandRunner, ExecutorContext } from './types.ts';

function makeCtx(run: CommandRunner, dryRun = false): ExecutorContext {
  return {
    dryRun,
    run,
    snapshotFile: async () => {},
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
  };
}

interface Call {
  readonly argv: string[];
  readonly env?: Readonly<Record<string, string>>;
}

const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
const fail = (exitCode: number, stderr: string, stdout = ''): CommandResult => ({
  exitCode,
  stdout,
  stderr,
  timedOut: false,
});

/**
 * Stands in for apt/dpkg, dnf/rpm and apk: a package database that the install/remove commands change and
 * the query commands read, recording every argv. `available` is the repository's version of each package.
 */
class FakePackageManager {
  readonly calls: Call[] = [];
  readonly installed = new Map<string, string>();
  failNextInstall?: string;
  ignoreInstalls = false;
  constructor(readonly available: Record<string, string>) {}

  readonly run: CommandRunner = async (file: string, args: readonly string[], options?: CommandOptions) => {
    this.calls.push({ argv: [file, ...args], env: options?.env });
    return this.answer(file, [...args]);
  };

  argvs(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }

  private setInstalled(spec: string, sep: string): void {
    const i = spec.indexOf(sep, 1);
    const name = i > 0 ? spec.slice(0, i) : spec;
    const version = i > 0 ? spec.slice(i + 1) : (this.available[name] ?? '0');
    if (!this.ignoreInstalls) this.installed.set(name, version);
  }

  private mutate(verb: string, names: string[], sep: string): CommandResult {
    if (verb === 'remove' || verb === 'del') names.forEach((n) => this.installed.delete(n));
    else if (this.failNextInstall !== undefined) {
      const stderr = this.failNextInstall;
      this.failNextInstall = undefined;
      return fail(100, stderr);
    } else names.forEach((n) => this.setInstalled(n, sep));
    return ok();
  }

  private answer(file: string, args: string[]): CommandResult {
    const last = args[args.length - 1] ?? '';
    const operands = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-o');
    const have = this.installed.get(last);
    switch (file) {
      case 'dpkg-query':
        return have !== undefined
          ? ok(`install ok installed\t${have}\n`)
          : fail(1, `dpkg-query: no packages found matching ${last}\n`);
      case 'apt-cache':
        return ok(
          `${last}:\n  Installed: ${have ?? '(none)'}\n  Candidate: ${this.available[last] ?? '(none)'}\n`,
        );
      case 'apt-get':
        return operands[0] === 'update' ? ok() : this.mutate(operands[0] ?? '', operands.slice(1), '=');
      case 'rpm':
        return have !== undefined ? ok(`${have}\n`) : fail(1, '', `package ${last} is not installed\n`);
      case 'dnf':
        if (operands[0] === 'check-update') return have !== this.available[last] ? fail(100, '') : ok();
        return this.mutate(operands[0] ?? '', operands.slice(1), '-');
      case 'apk':
        if (operands[0] === 'info') return have !== undefined ? ok(`${last}\n`) : fail(1, '');
        if (operands[0] === 'list') {
          if (have === undefined) return ok();
          const up = args.includes('-u');
          if (up && have === this.available[last]) return ok();
          return ok(
            `${last}-${up ? this.available[last] : have} x86_64 {${last}} (MIT) [${up ? `upgradable from: ${last}-${have}` : 'installed'}]\n`,
          );
        }
        return this.mutate(operands[0] ?? '', operands.slice(1), '=');
      default:
        return fail(127, `cannot start ${file}`);
    }
  }
}

const executor = createPackageExecutor({ detect: () => undefined });

describe('package executor with apt (the runner stands in for apt)', () => {
  it('installs a missing package non-interactively, then finds nothing to do', async () => {
    const apt = new FakePackageManager({ nginx: '1.22-1' });
    const r = await executor.apply({ package: 'nginx', provider: 'apt' }, makeCtx(apt.run));
    assert.deepEqual(r, { outcome: 'created', message: 'installed nginx 1.22-1 (apt)' });
    const install = apt.calls.find((c) => c.argv[0] === 'apt-get');
    assert.deepEqual(install?.argv, [
      'apt-get',
      'install',
      '-y',
      '-q',
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      'nginx',
    ]);
    assert.equal(install?.env?.DEBIAN_FRONTEND, 'noninteractive');
    assert.ok(install?.env?.PATH, 'the agent environment is kept');
    assert.deepEqual(apt.argvs()[0], 'dpkg-query -W -f=${Status}\t${Version}\n nginx');
    const again = await executor.apply({ package: 'nginx', provider: 'apt' }, makeCtx(apt.run));
    assert.deepEqual(again, { outcome: 'none', message: 'nginx 1.22-1 installed (apt)' });
  });

  it('pins a version with name=version and allows the downgrade', async () => {
    const apt = new FakePackageManager({ nginx: '1.24-1' });
    apt.installed.set('nginx', '1.24-1');
    const params = { package: 'nginx', version: '1.22-1', provider: 'apt' };
    const dry = await executor.apply(params, makeCtx(apt.run, true));
    assert.deepEqual(dry, { outcome: 'updated', message: 'would change nginx 1.24-1 -> 1.22-1 (apt)' });
    assert.equal(apt.installed.get('nginx'), '1.24-1');
    const r = await executor.apply(params, makeCtx(apt.run));
    assert.deepEqual(r, { outcome: 'updated', message: 'changed nginx 1.22-1 (apt)' });
    assert.ok(
      apt
        .argvs()
        .some(
          (a) =>
            a.startsWith('apt-get install') &&
            a.includes('--allow-downgrades') &&
            a.endsWith(' nginx=1.22-1'),
        ),
    );
  });

  it('refreshes stale package lists once when apt cannot locate the package', async () => {
    const apt = new FakePackageManager({ sl: '5.02-1' });
    apt.failNextInstall = 'E: Unable to locate package sl';
    const r = await executor.apply({ package: 'sl', provider: 'apt' }, makeCtx(apt.run));
    assert.equal(r.outcome, 'created', r.message);
    const aptGets = apt.calls.filter((c) => c.argv[0] === 'apt-get').map((c) => c.argv[1]);
    assert.deepEqual(aptGets, ['install', 'update', 'install']);
  });

  it('state latest upgrades with --only-upgrade and installs what is missing', async () => {
    const apt = new FakePackageManager({ curl: '8.0', jq: '1.7' });
    apt.installed.set('curl', '7.9');
    const params = { names: ['curl', 'jq'], state: 'latest', provider: 'apt' };
    const dry = await executor.apply(params, makeCtx(apt.run, true));
    assert.deepEqual(dry, { outcome: 'updated', message: 'would install jq; upgrade curl 7.9 (apt)' });
    const r = await executor.apply(params, makeCtx(apt.run));
    assert.deepEqual(r, { outcome: 'updated', message: 'installed jq 1.7, upgraded curl 7.9 -> 8.0 (apt)' });
    assert.ok(
      apt.argvs().some((a) => a.startsWith('apt-get install -y -q --only-upgrade') && a.endsWith(' curl')),
    );
    const again = await executor.apply(params, makeCtx(apt.run));
    assert.equal(again.outcome, 'none');
  });

  it('removes installed packages with apt-get remove', async () => {
    const apt = new FakePackageManager({});
    apt.installed.set('telnet', '0.17');
    const r = await executor.apply({ package: 'telnet', state: 'absent', provider: 'apt' }, makeCtx(apt.run));
    assert.deepEqual(r, { outcome: 'deleted', message: 'removed telnet 0.17 (apt)' });
    assert.ok(apt.argvs().includes('apt-get remove -y -q telnet'));
    const again = await executor.apply(
      { package: 'telnet', state: 'absent', provider: 'apt' },
      makeCtx(apt.run),
    );
    assert.deepEqual(again, { outcome: 'none', message: 'telnet not installed (apt)' });
  });

  it('fails with the tool output when apt fails, and when the package is still missing afterwards', async () => {
    const apt = new FakePackageManager({});
    apt.failNextInstall = 'E: Sub-process /usr/bin/dpkg returned an error code (1)';
    const r = await executor.apply({ package: 'broken', provider: 'apt' }, makeCtx(apt.run));
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /apt-get install .* failed \(exit 100\): E: Sub-process \/usr\/bin\/dpkg returned an error code \(1\)/,
    );
    const silent = new FakePackageManager({ ghost: '1' });
    silent.ignoreInstalls = true;
    const v = await executor.apply({ package: 'ghost', provider: 'apt' }, makeCtx(silent.run));
    assert.equal(v.outcome, 'failed');
    assert.match(v.message, /apt reported success but ghost is not as wanted/);
  });
});

describe('package executor with dnf and apk (runner stands in for them)', () => {
  it('dnf: rpm -q to read, name-version to pin, check-update + upgrade for latest, remove', async () => {
    const dnf = new FakePackageManager({ httpd: '2.4.62-1.el9' });
    const r = await executor.apply(
      { package: 'httpd', version: '2.4.57', provider: 'dnf' },
      makeCtx(dnf.run),
    );
    assert.equal(r.outcome, 'created', r.message);
    assert.ok(dnf.argvs().includes('dnf install -y -q httpd-2.4.57'));
    assert.ok(dnf.argvs().includes('rpm -q --qf %{VERSION}-%{RELEASE}\n httpd'));
    const latest = await executor.apply(
      { package: 'httpd', state: 'latest', provider: 'dnf' },
      makeCtx(dnf.run),
    );
    assert.equal(latest.outcome, 'updated', latest.message);
    assert.ok(dnf.argvs().includes('dnf -q check-update httpd'));
    assert.ok(dnf.argvs().includes('dnf upgrade -y -q httpd'));
    const gone = await executor.apply(
      { package: 'httpd', state: 'absent', provider: 'dnf' },
      makeCtx(dnf.run),
    );
    assert.equal(gone.outcome, 'deleted');
    assert.ok(dnf.argvs().includes('dnf remove -y -q httpd'));
  });

  it('apk: info -e to read, name=version to pin, add --upgrade for latest, del to remove', async () => {
    const apk = new FakePackageManager({ nginx: '1.26.2-r0' });
    const r = await executor.apply(
      { package: 'nginx', version: '1.24.0-r1', provider: 'apk' },
      makeCtx(apk.run),
    );
    assert.deepEqual(r, { outcome: 'created', message: 'installed nginx 1.24.0-r1 (apk)' });
    assert.ok(apk.argvs().includes('apk add --no-progress nginx=1.24.0-r1'));
    const same = await executor.apply(
      { package: 'nginx', version: '1.24.0', provider: 'apk' },
      makeCtx(apk.run),
    );
    assert.equal(same.outcome, 'none', 'the upstream version matches 1.24.0-r1');
    const latest = await executor.apply(
      { package: 'nginx', state: 'latest', provider: 'apk' },
      makeCtx(apk.run),
    );
    assert.deepEqual(latest, { outcome: 'updated', message: 'upgraded nginx 1.24.0-r1 -> 1.26.2-r0 (apk)' });
    assert.ok(apk.argvs().includes('apk add --upgrade --no-progress nginx'));
    const gone = await executor.apply(
      { package: 'nginx', state: 'absent', provider: 'apk' },
      makeCtx(apk.run),
    );
    assert.equal(gone.outcome, 'deleted');
    assert.ok(apk.argvs().includes('apk del --no-progress nginx'));
  });
});

describe('package executor params and detection', () => {
  it('rejects params that cannot work', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ package: '-oAPT::Foo=1', provider: 'apt' }, /package name "-oAPT::Foo=1" is invalid/],
      [{ names: ['ok', 'bad name'], provider: 'apt' }, /package name "bad name" is invalid/],
      [{ names: [], provider: 'apt' }, /package name \(none\) is invalid/],
      [{ names: ['a', 'b'], version: '1', provider: 'apt' }, /version can pin only one package/],
      [
        { package: 'a', version: '1', state: 'latest', provider: 'apt' },
        /cannot be combined with state latest/,
      ],
      [{ package: 'a', version: '1 2', provider: 'apt' }, /version "1 2" is invalid/],
      [{ package: 'a', state: 'installed', provider: 'apt' }, /state must be present, absent or latest/],
      [{ package: 'a', provider: 'brew' }, /provider must be one of apt, dnf, apk, yum, zypper, pacman/],
      [{ package: 'a' }, /no package manager found/],
    ];
    const pm = new FakePackageManager({});
    for (const [params, pattern] of cases) {
      const r = await executor.apply(params, makeCtx(pm.run));
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
    }
    assert.deepEqual(pm.calls, []);
  });

  it('matches versions with or without epoch and Debian/Alpine revision', () => {
    assert.equal(versionMatches('1:2.3-4', '2.3-4'), true);
    assert.equal(versionMatches('1:2.3-4', '1:2.3-4'), true);
    assert.equal(versionMatches('2.3-4', '2.3'), true);
    assert.equal(versionMatches('2.30-1', '2.3'), false);
    assert.equal(versionMatches('1:2.3-4', '0:2.3-4'), false);
  });

  it('detects apt on a node that has apt-get', (t) => {
    if (!findExecutable('apt-get')) {
      t.skip('apt-get is not installed here');
      return;
    }
    assert.equal(detectPackageProvider(), 'apt');
  });
});

const hasDpkg = findExecutable('dpkg-query') !== undefined;

describe(
  'package executor against the real apt on this node',
  { skip: hasDpkg ? false : 'dpkg-query not installed' },
  () => {
    it('reports an installed package (bash) as up to date', async () => {
      const r = await packageExecutor.apply({ package: 'bash', provider: 'apt' }, makeCtx(runCommand));
      assert.equal(r.outcome, 'none', r.message);
      assert.match(r.message, /^bash \S+ installed \(apt\)$/);
    });

    it('auto-detects apt and, in dry run, says it would install a missing package without installing it', async (t) => {
      const before = await runCommand('dpkg-query', ['-W', '-f=${Status}', 'sl']);
      if (before.stdout.includes(' installed')) {
        t.skip('sl is installed on this node');
        return;
      }
      const r = await packageExecutor.apply({ package: 'sl' }, makeCtx(runCommand, true));
      assert.deepEqual(r, { outcome: 'created', message: 'would install sl (apt)' });
      const after = await runCommand('dpkg-query', ['-W', '-f=${Status}', 'sl']);
      assert.doesNotMatch(after.stdout, / installed/);
      const absent = await packageExecutor.apply({ package: 'sl', state: 'absent' }, makeCtx(runCommand));
      assert.deepEqual(absent, { outcome: 'none', message: 'sl not installed (apt)' });
    });

    it('installs and removes a real package (sl)', async (t) => {
      if (process.env.VIGO_TEST_REAL_PACKAGES !== '1') {
        t.skip(
          'set VIGO_TEST_REAL_PACKAGES=1 to install and remove a real package (needs root and a Debian mirror)',
        );
        return;
      }
      t.after(async () => {
        await runCommand('apt-get', ['remove', '-y', '-q', 'sl'], {
          env: { DEBIAN_FRONTEND: 'noninteractive' },
        });
      });
      const ctx = makeCtx(runCommand);
      const installed = await packageExecutor.apply({ package: 'sl', provider: 'apt' }, ctx);
      assert.equal(installed.outcome, 'created', installed.message);
      assert.equal((await packageExecutor.apply({ package: 'sl', provider: 'apt' }, ctx)).outcome, 'none');
      const removed = await packageExecutor.apply({ package: 'sl', state: 'absent', provider: 'apt' }, ctx);
      assert.equal(removed.outcome, 'deleted', removed.message);
      assert.equal(
        (await packageExecutor.apply({ package: 'sl', state: 'absent', provider: 'apt' }, ctx)).outcome,
        'none',
      );
    });
  },
);
