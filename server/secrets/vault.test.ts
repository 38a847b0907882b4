import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, isVigoError, silentLogger } from '../core/index.ts';
import type { ErrorCode, Logger } from '../core/index.ts';
import { maxSecretValueBytes, openVault } from './index.ts';
import type { Vault } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

function freshDir(): string {
  return join(root, `vault-${++dirCount}`);
}

function open(dir: string, log: Logger = silentLogger): Vault {
  return openVault({ dir, log });
}

function throwsCode(fn: () => unknown, code: ErrorCode): Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isVigoError(caught), `expected VigoError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

interface SecretJson {
  path: string;
  version: number;
  nonce: string;
  ciphertext: string;
  tag: string;
}

function editVault(dir: string, edit: (secrets: SecretJson[]) => void): void {
  const file = join(dir, 'vault.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { secrets: SecretJson[] };
  edit(doc.secrets);
  writeFileSync(file, JSON.stringify(doc));
}

function flipFirstBit(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
}

const plaintext = 'pw-Zq8#unique-plaintext-7731';

describe('vault round trip', () => {
  it('stores, reads, lists, overwrites and deletes secrets', () => {
    const dir = freshDir();
    const vault = open(dir);
    assert.equal(vault.get('vigo/db/password'), undefined);
    const first = vault.set('vigo/db/password', plaintext);
    assert.deepEqual([first.version, first.created], [1, true]);
    vault.set('vigo/multi', 'line one\nline two ünïcødé 🔑');
    vault.set('vigo/empty', '');
    assert.equal(vault.get('vigo/db/password'), plaintext);
    assert.equal(vault.get('vigo/multi'), 'line one\nline two ünïcødé 🔑');
    assert.equal(vault.get('vigo/empty'), '');
    const second = vault.set('vigo/db/password', 'rotated-value');
    assert.deepEqual([second.version, second.created], [2, false]);
    assert.equal(vault.get('vigo/db/password'), 'rotated-value');
    assert.deepEqual(
      vault.list().map((s) => [s.path, s.version]),
      [
        ['vigo/db/password', 2],
        ['vigo/empty', 1],
        ['vigo/multi', 1],
      ],
    );
    assert.deepEqual(Object.keys(vault.list()[0]!).sort(), ['path', 'updatedAtMs', 'version']);
    assert.deepEqual(vault.delete('vigo/empty').version, 1);
    assert.equal(vault.has('vigo/empty'), false);
    assert.equal(vault.has('vigo/multi'), true);
    assert.equal(open(dir).get('vigo/db/password'), 'rotated-value');
  });

  it('accepts a value of exactly 64 KiB', () => {
    const vault = open(freshDir());
    const value = 'v'.repeat(maxSecretValueBytes);
    vault.set('big', value);
    assert.equal(vault.get('big'), value);
  });

  it('keeps no plaintext on disk and gives each encryption its own nonce', () => {
    const dir = freshDir();
    const vault = open(dir);
    vault.set('a/one', plaintext);
    vault.set('a/two', plaintext);
    const bytes = readFileSync(join(dir, 'vault.json'));
    assert.equal(bytes.includes(plaintext), false);
    assert.equal(bytes.includes(Buffer.from(plaintext).toString('base64')), false);
    assert.equal(bytes.includes(Buffer.from(plaintext).toString('hex')), false);
    const doc = JSON.parse(bytes.toString('utf8')) as { secrets: SecretJson[] };
    const [one, two] = doc.secrets;
    assert.notEqual(one!.nonce, two!.nonce);
    assert.notEqual(one!.ciphertext, two!.ciphertext);
  });
});

describe('vault files', () => {
  it('creates the directory 0700 and the key and vault files 0600 whatever the umask', () => {
    const dir = freshDir();
    const previous = process.umask(0o000);
    try {
      mkdirSync(dir, { mode: 0o755 });
      open(dir).set('x', 'y');
    } finally {
      process.umask(previous);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'vault.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'master.key')).size, 32);
  });

  it('refuses a master key readable by group or others, of the wrong size, or missing beside a vault', () => {
    const dir = freshDir();
    open(dir).set('x', 'y');
    const keyFile = join(dir, 'master.key');
    const key = readFileSync(keyFile);
    chmodSync(keyFile, 0o640);
    assert.match(throwsCode(() => open(dir), 'secrets.master_key_invalid').message, /chmod 600/);
    chmodSync(keyFile, 0o604);
    throwsCode(() => open(dir), 'secrets.master_key_invalid');
    chmodSync(keyFile, 0o600);
    writeFileSync(keyFile, key.subarray(0, 31));
    assert.match(throwsCode(() => open(dir), 'secrets.master_key_invalid').message, /31 bytes/);
    rmSync(keyFile);
    throwsCode(() => open(dir), 'secrets.master_key_invalid');
    assert.throws(() => statSync(keyFile), /ENOENT/, 'no new key may be made for an existing vault');
    writeFileSync(keyFile, key, { mode: 0o600 });
    assert.equal(open(dir).get('x'), 'y');
  });

  it('refuses a master key the vault was not written with, and changes nothing', () => {
    const dir = freshDir();
    open(dir).set('x', 'y');
    const before = readFileSync(join(dir, 'vault.json'));
    writeFileSync(join(dir, 'master.key'), randomBytes(32));
    assert.match(throwsCode(() => open(dir), 'secrets.master_key_invalid').message, /not the key/);
    assert.deepEqual(readFileSync(join(dir, 'vault.json')), before);
  });

  it('lets a second open of the same directory see the first one’s writes', () => {
    const dir = freshDir();
    const a = open(dir);
    a.set('shared/one', '1');
    const b = open(dir);
    assert.equal(b.get('shared/one'), '1');
    b.set('shared/two', '2');
    const reopened = open(dir);
    assert.equal(reopened.get('shared/two'), '2');
    assert.equal(reopened.epoch, b.epoch);
    assert.equal(reopened.keyId, a.keyId);
  });
});

describe('tampering', () => {
  const setUp = (): string => {
    const dir = freshDir();
    const vault = open(dir);
    vault.set('t/a', 'value-a');
    vault.set('t/b', 'value-b');
    return dir;
  };
  const cases: [string, (secrets: SecretJson[]) => void][] = [
    ['ciphertext', (s) => (s[0]!.ciphertext = flipFirstBit(s[0]!.ciphertext))],
    ['tag', (s) => (s[0]!.tag = flipFirstBit(s[0]!.tag))],
    ['nonce', (s) => (s[0]!.nonce = flipFirstBit(s[0]!.nonce))],
    ['version (associated data)', (s) => (s[0]!.version = 2)],
    [
      'ciphertexts, swapped between two paths (associated data)',
      (s) => {
        const [a, b] = [s[0]!, s[1]!];
        [a.nonce, a.ciphertext, a.tag, b.nonce, b.ciphertext, b.tag] = [
          b.nonce,
          b.ciphertext,
          b.tag,
          a.nonce,
          a.ciphertext,
          a.tag,
        ];
      },
    ],
  ];
  for (const [name, edit] of cases) {
    it(`detects tampering with the ${name} on get`, () => {
      const dir = setUp();
      editVault(dir, edit);
      const vault = open(dir);
      const err = throwsCode(() => vault.get('t/a'), 'secrets.vault_corrupt');
      assert.match(err.message, /t\/a/);
      assert.equal(err.message.includes('value-'), false);
      if (name.includes('swapped')) throwsCode(() => vault.get('t/b'), 'secrets.vault_corrupt');
      else assert.equal(vault.get('t/b'), 'value-b', 'the other secret stays readable');
    });
  }

  it('refuses to open a vault file that is not a well-formed vault', () => {
    const dir = setUp();
    const file = join(dir, 'vault.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, 40));
    throwsCode(() => open(dir), 'secrets.vault_corrupt');
    writeFileSync(file, good);
    editVault(dir, (s) => s.push({ ...s[0]! }));
    assert.match(throwsCode(() => open(dir), 'secrets.vault_corrupt').message, /more than once/);
    writeFileSync(file, good);
    editVault(dir, (s) => (s[0]!.nonce = Buffer.alloc(8).toString('base64')));
    throwsCode(() => open(dir), 'secrets.vault_corrupt');
    writeFileSync(file, good);
    editVault(dir, (s) => (s[0]!.path = '../escape'));
    throwsCode(() => open(dir), 'secrets.vault_corrupt');
  });
});

describe('bad input changes nothing', () => {
  it('rejects bad paths and values with stable codes, leaving the file and epoch as they were', () => {
    const dir = freshDir();
    const vault = open(dir);
    vault.set('keep', 'kept');
    const file = join(dir, 'vault.json');
    const before = readFileSync(file);
    const epoch = vault.epoch;
    const secretish = 'S3CRET-in-bad-value';
    for (const path of ['', '/abs', 'a/../b', 'a//b', 'trailing/', 'sp ace', 'a__END', 'x'.repeat(257)])
      throwsCode(() => vault.set(path, 'v'), 'secrets.path_invalid');
    const tooBig = throwsCode(
      () => vault.set('big', secretish.repeat(Math.ceil((maxSecretValueBytes + 1) / secretish.length))),
      'secrets.value_too_large',
    );
    assert.equal(tooBig.message.includes(secretish), false);
    throwsCode(() => vault.set('big', 'é'.repeat(maxSecretValueBytes / 2 + 1)), 'secrets.value_too_large');
    const lone = throwsCode(() => vault.set('bad', `${secretish}\ud800`), 'secrets.value_invalid');
    assert.equal(lone.message.includes(secretish), false);
    throwsCode(() => vault.delete('absent'), 'secrets.not_found');
    throwsCode(() => vault.get('a/../b'), 'secrets.path_invalid');
    assert.equal(vault.has('a/../b'), false);
    assert.deepEqual(readFileSync(file), before);
    assert.equal(vault.epoch, epoch);
    assert.deepEqual(
      vault.list().map((s) => s.path),
      ['keep'],
    );
  });
});

describe('epoch', () => {
  it('increments on every set, delete and rotation, and survives a reopen', () => {
    const dir = freshDir();
    const vault = open(dir);
    assert.equal(vault.epoch, 0);
    assert.equal(vault.set('e/one', '1').epoch, 1);
    vault.set('e/one', '2');
    assert.equal(vault.epoch, 2);
    assert.equal(vault.delete('e/one').epoch, 3);
    assert.equal(vault.rotateMasterKey().epoch, 4);
    vault.get('e/two');
    vault.list();
    assert.equal(vault.epoch, 4);
    assert.equal(open(dir).epoch, 4);
  });
});

describe('resolveForBundle', () => {
  it('returns values only for allowed paths, each once, and reports denied and vanished ones', () => {
    const vault = open(freshDir());
    vault.set('app/db', 'db-pass');
    vault.set('app/api', 'api-key');
    vault.set('other/envoy', 'not yours');
    const allowed = new Set(['app/db', 'app/api', 'app/deleted']);
    const result = vault.resolveForBundle(allowed, [
      'app/db',
      'other/envoy',
      'app/db',
      'app/deleted',
      'app/api',
      'other/envoy',
      '../x',
    ]);
    assert.deepEqual(
      [...result.values].map(([path, value]) => [path, value.toString('utf8')]),
      [
        ['app/db', 'db-pass'],
        ['app/api', 'api-key'],
      ],
    );
    assert.deepEqual(result.denied, ['other/envoy', '../x']);
    assert.deepEqual(result.missing, ['app/deleted']);
    assert.equal(vault.resolveForBundle(new Set(), ['app/db']).values.size, 0);
  });
});

describe('logs', () => {
  it('never carry a secret value, whatever the operation', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: { write: (line) => lines.push(line) } });
    const dir = freshDir();
    const vault = open(dir, log);
    vault.set('l/one', plaintext);
    vault.get('l/one');
    vault.resolveForBundle(new Set(['l/one']), ['l/one', 'l/none']);
    vault.rotateMasterKey();
    writeFileSync(join(dir, 'vault.json.1.0123456789ab.tmp'), plaintext);
    const reopened = open(dir, log);
    reopened.delete('l/one');
    assert.ok(lines.length >= 4, 'operations are logged');
    assert.ok(lines.some((line) => line.includes('l/one')));
    for (const line of lines) assert.equal(line.includes(plaintext), false, line);
  });
});
