import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRepositoryExecutor } from './repository.ts';
import { setup } from './test-context.ts';
import type { CommandRunner, ExecutorContext } from './types.ts';

const pgpKey = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZabc\n-----END PGP PUBLIC KEY BLOCK-----\n';

describe('repository executor', () => {
  it('apt: writes the source with signed-by and its key, changes nothing twice, removes both', async (t) => {
    const { dir, ctx } = setup(t);
    const ex = createRepositoryExecutor({ root: dir });
    const params = {
      repository: 'acme',
      provider: 'apt',
      url: 'https://apt.example.com/debian',
      distribution: 'bookworm',
      components: ['main', 'contrib'],
      arch: 'amd64',
      key: pgpKey,
      update: false,
    };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.equal(fs.existsSync(path.join(dir, 'etc')), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(
      fs.readFileSync(path.join(dir, 'etc/apt/sources.list.d/acme.list'), 'utf8'),
      '# Managed by vigo: changes here are overwritten.\n' +
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/acme.asc] https://apt.example.com/debian bookworm main contrib\n',
    );
    assert.equal(fs.readFileSync(path.join(dir, 'etc/apt/keyrings/acme.asc'), 'utf8'), pgpKey);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    fs.appendFileSync(path.join(dir, 'etc/apt/sources.list.d/acme.list'), 'deb http://evil.example/ x y\n');
    const back = await ex.apply(params, ctx());
    assert.equal(back.outcome, 'updated', back.message);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'etc/apt/sources.list.d/acme.list'), 'utf8'), /evil/);
    const gone = await ex.apply({ repository: 'acme', provider: 'apt', state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.existsSync(path.join(dir, 'etc/apt/sources.list.d/acme.list')), false);
    assert.equal(fs.existsSync(path.join(dir, 'etc/apt/keyrings/acme.asc')), false);
  });

  it('apt: refreshes only the changed source after a change, and nothing when nothing changed', async (t) => {
    const base = setup(t);
    const calls: string[][] = [];
    const run: CommandRunner = async (file, args) => {
      calls.push([file, ...args]);
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
    };
    const ctx: ExecutorContext = { ...base.ctx(), run };
    const ex = createRepositoryExecutor({ root: base.dir });
    const params = {
      repository: 'acme',
      provider: 'apt',
      url: 'https://apt.example.com/debian',
      distribution: 'stable',
    };
    assert.equal((await ex.apply(params, ctx)).outcome, 'created');
    assert.equal((await ex.apply(params, ctx)).outcome, 'none');
    assert.deepEqual(calls, [
      [
        'apt-get',
        'update',
        '-q',
        '-o',
        'Dir::Etc::sourcelist=sources.list.d/acme.list',
        '-o',
        'Dir::Etc::sourceparts=-',
        '-o',
        'APT::Get::List-Cleanup=0',
      ],
    ]);
  });

  it('dnf: writes a .repo with gpgcheck and the key', async (t) => {
    const { dir, ctx } = setup(t);
    const ex = createRepositoryExecutor({ root: dir });
    const params = {
      repository: 'acme',
      provider: 'dnf',
      url: 'https://rpm.example.com/el9/$basearch',
      key: pgpKey,
      update: false,
    };
    assert.equal((await ex.apply(params, ctx())).outcome, 'created');
    assert.equal(
      fs.readFileSync(path.join(dir, 'etc/yum.repos.d/acme.repo'), 'utf8'),
      '# Managed by vigo: changes here are overwritten.\n[acme]\nname=acme\nbaseurl=https://rpm.example.com/el9/$basearch\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-acme\n',
    );
    assert.ok(fs.existsSync(path.join(dir, 'etc/pki/rpm-gpg/RPM-GPG-KEY-acme')));
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
  });

  it('apk: adds its line to the shared repositories file and removes only that line', async (t) => {
    const { dir, ctx } = setup(t);
    fs.mkdirSync(path.join(dir, 'etc/apk'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'etc/apk/repositories'),
      'https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n',
    );
    const ex = createRepositoryExecutor({ root: dir });
    const params = {
      repository: 'acme',
      provider: 'apk',
      url: 'https://apk.example.com/v3.20',
      key: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
      update: false,
    };
    assert.equal((await ex.apply(params, ctx())).outcome, 'created');
    assert.equal(
      fs.readFileSync(path.join(dir, 'etc/apk/repositories'), 'utf8'),
      'https://dl-cdn.alpinelinux.org/alpine/v3.20/main\nhttps://apk.example.com/v3.20\n',
    );
    assert.ok(fs.existsSync(path.join(dir, 'etc/apk/keys/acme.rsa.pub')));
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    assert.equal((await ex.apply({ ...params, state: 'absent' }, ctx())).outcome, 'deleted');
    assert.equal(
      fs.readFileSync(path.join(dir, 'etc/apk/repositories'), 'utf8'),
      'https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n',
    );
    assert.equal(fs.existsSync(path.join(dir, 'etc/apk/keys/acme.rsa.pub')), false);
  });

  it('fetches key_url once, checked against key_checksum', async (t) => {
    const { dir, ctx } = setup(t);
    let served = 0;
    const server = http.createServer((_req, res) => {
      served++;
      res.end(pgpKey);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const keyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/acme.asc`;
    const sum = createHash('sha256').update(pgpKey).digest('hex');
    const ex = createRepositoryExecutor({ root: dir });
    const params = {
      repository: 'acme',
      provider: 'apt',
      url: 'https://apt.example.com',
      distribution: 'stable',
      key_url: keyUrl,
      key_checksum: sum,
      update: false,
    };
    assert.equal((await ex.apply(params, ctx())).outcome, 'created');
    assert.equal(fs.readFileSync(path.join(dir, 'etc/apt/keyrings/acme.asc'), 'utf8'), pgpKey);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    assert.equal(served, 1);
    fs.rmSync(path.join(dir, 'etc/apt/keyrings/acme.asc'));
    const wrong = await ex.apply({ ...params, key_checksum: '1'.repeat(64) }, ctx());
    assert.equal(wrong.outcome, 'failed');
    assert.match(wrong.message, /does not match key_checksum; not installed/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'etc/apt/keyrings')), []);
  });

  it('refuses bad names, URLs, keys and suites before writing anything', async (t) => {
    const { dir, ctx } = setup(t);
    const ex = createRepositoryExecutor({ root: dir });
    const ok = {
      repository: 'acme',
      provider: 'apt',
      url: 'https://apt.example.com',
      distribution: 'stable',
      update: false,
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...ok, repository: '../etc/passwd' }, /must be a plain file name/],
      [{ ...ok, url: 'https://x.example/ y z\ndeb http://evil/' }, /url must be/],
      [{ ...ok, distribution: 'stable main] [x' }, /distribution .* is not a valid/],
      [{ ...ok, key: 'not a key' }, /ASCII-armored public key/],
      [{ ...ok, key_url: 'http://keys.example.com/k.asc' }, /key_url must be https unless key_checksum/],
      [{ ...ok, key: pgpKey, key_url: 'https://k.example/k' }, /not both/],
    ];
    for (const [params, re] of cases) {
      const r = await ex.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, re);
    }
    assert.equal(fs.existsSync(path.join(dir, 'etc')), false);
  });
});
