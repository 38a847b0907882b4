import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { findExecutable } from './exec.ts';
import { createPackageFileExecutor } from './package-file.ts';
import { setup } from './test-context.ts';
import type { CommandResult, CommandRunner, ExecutorContext } from './types.ts';

const skip = findExecutable('dpkg-deb') && findExecutable('dpkg') ? false : 'dpkg is not installed here';

function deb(dir: string, name: string, version: string): string {
  const src = path.join(dir, `build-${name}-${version}`);
  fs.mkdirSync(path.join(src, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(src, 'opt', name), { recursive: true });
  fs.writeFileSync(
    path.join(src, 'DEBIAN', 'control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test package\n`,
  );
  fs.writeFileSync(path.join(src, 'opt', name, 'VERSION'), `${version}\n`);
  const out = path.join(dir, `${name}_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', src, out], { stdio: 'ignore' });
  return out;
}

/** An empty dpkg root: packages installed here never touch the machine's own database. */
function dpkgRoot(dir: string): string {
  const root = path.join(dir, 'root');
  for (const d of ['updates', 'info']) fs.mkdirSync(path.join(root, 'var/lib/dpkg', d), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
  return root;
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function serve(t: TestContext, dir: string, auth: string[]): Promise<string> {
  const server = http.createServer((req, res) => {
    auth.push(req.headers.authorization ?? '');
    const file = path.join(dir, path.basename(req.url ?? ''));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('nonrepo_package executor (dpkg into a temporary root)', { skip }, () => {
  it('installs a checked .deb, changes nothing twice, upgrades to a pinned version, removes', async (t) => {
    const { dir, ctx } = setup(t);
    const root = dpkgRoot(dir);
    const ex = createPackageFileExecutor('nonrepo_package', { dpkgRoot: root });
    const v1 = deb(dir, 'vigo-demo', '1.0-1');
    const v2 = deb(dir, 'vigo-demo', '2.0-1');
    const params = { package: 'vigo-demo', source: v1, checksum: `sha256:${sha256(v1)}` };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.equal(fs.existsSync(path.join(root, 'opt/vigo-demo')), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(r.message, `nonrepo_package vigo-demo (dpkg): installed 1.0-1 from ${v1}`);
    assert.equal(fs.readFileSync(path.join(root, 'opt/vigo-demo/VERSION'), 'utf8'), '1.0-1\n');
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const up = await ex.apply({ package: 'vigo-demo', source: v2, version: '2.0' }, ctx());
    assert.equal(up.outcome, 'updated', up.message);
    assert.match(up.message, /1\.0-1 -> 2\.0-1/);
    assert.equal(
      (await ex.apply({ package: 'vigo-demo', source: v2, version: '2.0' }, ctx())).outcome,
      'none',
    );
    const gone = await ex.apply({ package: 'vigo-demo', provider: 'dpkg', state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.existsSync(path.join(root, 'opt/vigo-demo/VERSION')), false);
    assert.equal(
      (await ex.apply({ package: 'vigo-demo', provider: 'dpkg', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('refuses a wrong checksum, another package and another version, installing nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const root = dpkgRoot(dir);
    const ex = createPackageFileExecutor('source_package', { dpkgRoot: root });
    const v1 = deb(dir, 'vigo-demo', '1.0-1');
    const other = deb(dir, 'vigo-other', '1.0-1');
    const bad = await ex.apply({ package: 'vigo-demo', source: v1, checksum: '0'.repeat(64) }, ctx());
    assert.equal(bad.outcome, 'failed');
    assert.match(bad.message, /checksum mismatch .* expected sha256 0{64}, got [0-9a-f]{64}; not installed/);
    const wrongName = await ex.apply({ package: 'vigo-demo', source: other }, ctx());
    assert.match(wrongName.message, /holds package "vigo-other", not "vigo-demo"/);
    const wrongVersion = await ex.apply({ package: 'vigo-demo', source: v1, version: '3.0' }, ctx());
    assert.match(wrongVersion.message, /holds version 1\.0-1, not 3\.0/);
    const status = fs.readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8');
    assert.doesNotMatch(status, /vigo-/);
    const shortSum = await ex.apply({ package: 'vigo-demo', source: v1, checksum: 'abc' }, ctx());
    assert.match(shortSum.message, /checksum must be a SHA-256 digest/);
  });

  it('downloads from a URL only with a checksum, and keeps credentials out of messages', async (t) => {
    const { dir, ctx } = setup(t);
    const root = dpkgRoot(dir);
    const downloads = path.join(dir, 'downloads');
    fs.mkdirSync(downloads);
    const ex = createPackageFileExecutor('nonrepo_package', { dpkgRoot: root, downloadDir: downloads });
    const v1 = deb(dir, 'vigo-demo', '1.0-1');
    const auth: string[] = [];
    const base = await serve(t, dir, auth);
    const url = `${base.replace('http://', 'http://u:pa55word@')}/${path.basename(v1)}`;
    const noSum = await ex.apply({ package: 'vigo-demo', source: url }, ctx());
    assert.match(noSum.message, /checksum is required when source is a URL/);
    const r = await ex.apply({ package: 'vigo-demo', source: url, checksum: sha256(v1) }, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.doesNotMatch(r.message, /pa55word/);
    assert.deepEqual(auth, [`Basic ${Buffer.from('u:pa55word').toString('base64')}`]);
    assert.deepEqual(fs.readdirSync(downloads), []);
    const missing = await ex.apply(
      { package: 'vigo-demo', version: '9.9', source: `${base}/nope.deb`, checksum: sha256(v1) },
      ctx(),
    );
    assert.match(missing.message, /downloading .*nope\.deb failed: HTTP 404/);
    const small = createPackageFileExecutor('nonrepo_package', {
      dpkgRoot: root,
      downloadDir: downloads,
      maxBytes: 100,
    });
    const tooBig = await small.apply(
      { package: 'vigo-demo', version: '9.9', source: `${base}/${path.basename(v1)}`, checksum: sha256(v1) },
      ctx(),
    );
    assert.match(tooBig.message, /more than the 100-byte limit/);
    assert.deepEqual(fs.readdirSync(downloads), []);
  });

  it('installs into the real package database when VIGO_TEST_REAL_PACKAGES=1', async (t) => {
    if (process.env.VIGO_TEST_REAL_PACKAGES !== '1') {
      t.skip('set VIGO_TEST_REAL_PACKAGES=1 to install and remove a real .deb (needs root)');
      return;
    }
    const { dir, ctx } = setup(t);
    const ex = createPackageFileExecutor('nonrepo_package');
    const v1 = deb(dir, 'vigo-xplat-test', '1.0-1');
    t.after(() => execFileSync('dpkg', ['--purge', 'vigo-xplat-test'], { stdio: 'ignore' }));
    assert.equal((await ex.apply({ package: 'vigo-xplat-test', source: v1 }, ctx())).outcome, 'created');
    assert.equal((await ex.apply({ package: 'vigo-xplat-test', source: v1 }, ctx())).outcome, 'none');
    const gone = await ex.apply({ package: 'vigo-xplat-test', provider: 'dpkg', state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted');
  });
});

/** rpm and apk through their command contract: a runner that answers like the tools and records argv. */
function toolRunner(installedVersion: { value: string | undefined }, declared: string) {
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
    const missing: CommandResult = {
      exitCode: 1,
      stdout: '',
      stderr: 'package acme is not installed',
      timedOut: false,
    };
    if (file === 'rpm' && args[0] === '-q')
      return installedVersion.value ? ok(installedVersion.value) : missing;
    if (file === 'rpm' && args[0] === '-qp') return ok(`acme\t${declared}`);
    if (file === 'rpm' && args[0] === '-U') return ((installedVersion.value = declared), ok());
    if (file === 'rpm' && args[0] === '-e') return ((installedVersion.value = undefined), ok());
    if (file === 'apk' && args[0] === 'info')
      return installedVersion.value ? ok(`acme-${installedVersion.value}\n`) : ok('');
    if (file === 'tar') return ok(`pkgname = acme\npkgver = ${declared}\n`);
    if (file === 'apk' && args[0] === 'add') return ((installedVersion.value = declared), ok());
    if (file === 'apk' && args[0] === 'del') return ((installedVersion.value = undefined), ok());
    return { exitCode: 127, stdout: '', stderr: `unexpected ${file}`, timedOut: false };
  };
  return { run, calls };
}

describe('nonrepo_package executor (rpm and apk command contract)', () => {
  for (const [ext, provider, declared] of [
    ['rpm', 'rpm', '1.3-2.el9'],
    ['apk', 'apk', '1.3-r2'],
  ] as const) {
    it(`${provider}: inspects the file, installs it, verifies, and removes`, async (t) => {
      const base = setup(t);
      const file = path.join(base.dir, `acme-1.3.${ext}`);
      fs.writeFileSync(file, 'package bytes');
      const installed: { value: string | undefined } = { value: undefined };
      const { run, calls } = toolRunner(installed, declared);
      const ctx: ExecutorContext = { ...base.ctx(), run };
      const ex = createPackageFileExecutor('nonrepo_package');
      const params = { package: 'acme', source: file, checksum: sha256(file), version: '1.3' };
      const r = await ex.apply(params, ctx);
      assert.equal(r.outcome, 'created', r.message);
      assert.equal(r.message, `nonrepo_package acme (${provider}): installed ${declared} from ${file}`);
      assert.equal((await ex.apply(params, ctx)).outcome, 'none');
      assert.equal((await ex.apply({ package: 'acme', provider, state: 'absent' }, ctx)).outcome, 'deleted');
      const installs = calls.filter((c) => / (-U|add) /.test(c));
      assert.deepEqual(installs, [
        provider === 'rpm' ? `rpm -U --replacepkgs -- ${file}` : `apk add --allow-untrusted -- ${file}`,
      ]);
      assert.ok(calls.includes(provider === 'rpm' ? 'rpm -e -- acme' : 'apk del -- acme'));
    });
  }
});
