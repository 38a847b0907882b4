import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createLogger, isVigoError, silentLogger, type Logger } from '../core/index.ts';
import { loadOrCreatePki, type PkiOptions } from './index.ts';
import { x509 } from './x509-setup.ts';

const dayMs = 24 * 60 * 60 * 1000;
const fileNames = ['bundle-signing.key', 'ca.crt', 'ca.key', 'server.crt', 'server.key'];

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tlsDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'vigo-'));
  roots.push(root);
  return join(root, 'tls');
}

function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { log: createLogger({ level: 'debug', sink }), lines };
}

function options(dir: string, overrides: Partial<PkiOptions> = {}): PkiOptions {
  return { tlsDir: dir, hostname: 'vigo.example.test', extraSans: [], log: silentLogger, ...overrides };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

function sanStrings(pem: string): string[] {
  const ext = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.items ?? []).map((name) => `${name.type}:${name.value}`);
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVigoError(err), `expected a VigoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('loadOrCreatePki, first start', () => {
  it('creates the CA, server pair and bundle key as 0600 files in a 0700 directory', async () => {
    const dir = tlsDir();
    const pki = await loadOrCreatePki(options(dir));
    assert.deepEqual(readdirSync(dir).sort(), fileNames);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of fileNames) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    assert.ok(isAbsolute(pki.caFile));
    assert.equal(pki.caFile, join(dir, 'ca.crt'));
    assert.equal(readFileSync(pki.caFile, 'utf8'), pki.caCertPem);
    assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), pki.serverCertPem);
    assert.equal(readFileSync(join(dir, 'server.key'), 'utf8'), pki.serverKeyPem);
    assert.match(readFileSync(join(dir, 'ca.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pki.serverKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('makes a P-256 CA valid for ten years that may sign only leaf certificates', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const pki = await loadOrCreatePki(options(tlsDir(), { now: () => now }));
    const ca = new x509.X509Certificate(pki.caCertPem);
    assert.equal(ca.subject, 'CN=Vigo CA vigo.example.test');
    assert.ok(await ca.isSelfSigned());
    assert.deepEqual(ca.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
    assert.deepEqual(ca.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-256' } });
    const constraints = ca.getExtension(x509.BasicConstraintsExtension);
    assert.equal(constraints?.ca, true);
    assert.equal(constraints?.pathLength, 0);
    assert.equal(
      ca.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
    assert.equal(Math.round((ca.notAfter.getTime() - now.getTime()) / dayMs), 3650);
    assert.ok(ca.notBefore <= now);
    // 128 random bits with a non-zero first octet (the DER sign octet is not part of the hex).
    assert.match(ca.serialNumber, /^(?!00)[0-9a-f]{32}$/);
  });

  it('issues a server certificate from the CA for localhost, loopback IPs, the hostname and extra SANs', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const pki = await loadOrCreatePki(
      options(tlsDir(), {
        extraSans: ['10.1.2.3', 'Admin.Example.Test', '*.fleet.example', '2001:db8::5'],
        now: () => now,
      }),
    );
    const server = new x509.X509Certificate(pki.serverCertPem);
    const ca = new x509.X509Certificate(pki.caCertPem);
    assert.ok(await server.verify({ publicKey: ca.publicKey, date: now }));
    assert.equal(server.subject, 'CN=vigo.example.test');
    assert.equal(server.issuer, ca.subject);
    assert.deepEqual(sanStrings(pki.serverCertPem), [
      'dns:localhost',
      'ip:127.0.0.1',
      'ip:::1',
      'dns:vigo.example.test',
      'ip:10.1.2.3',
      'dns:admin.example.test',
      'dns:*.fleet.example',
      'ip:2001:db8::5',
    ]);
    assert.deepEqual(
      [...(server.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.serverAuth],
    );
    assert.equal(server.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(Math.round((server.notAfter.getTime() - now.getTime()) / dayMs), 825);
    assert.notEqual(server.serialNumber, ca.serialNumber);
  });

  it('puts an IP hostname in the certificate as an IP address', async () => {
    const pki = await loadOrCreatePki(options(tlsDir(), { hostname: '192.0.2.10' }));
    assert.ok(sanStrings(pki.serverCertPem).includes('ip:192.0.2.10'));
    assert.ok(!sanStrings(pki.serverCertPem).includes('dns:192.0.2.10'));
  });

  it('creates an ed25519 bundle-signing key whose public half is exposed in three forms', async () => {
    const pki = await loadOrCreatePki(options(tlsDir()));
    assert.equal(pki.bundleSigningKey.type, 'private');
    assert.equal(pki.bundleSigningKey.asymmetricKeyType, 'ed25519');
    assert.equal(pki.bundlePublicKeyRaw.length, 32);
    const message = Buffer.from('vigo/v1/bundle\0payload');
    const signature = sign(null, message, pki.bundleSigningKey);
    assert.ok(verify(null, message, pki.bundlePublicKey, signature));
    assert.ok(verify(null, message, createPublicKey(pki.bundlePublicKeyPem), signature));
    const fromRaw = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: pki.bundlePublicKeyRaw.toString('base64url') },
      format: 'jwk',
    });
    assert.ok(verify(null, message, fromRaw, signature));
  });

  it('refuses a hostname that cannot go in a certificate', async () => {
    const dir = tlsDir();
    await rejectsWith(
      loadOrCreatePki(options(dir, { hostname: 'bad host!' })),
      'config.invalid',
      /"bad host!"/,
    );
    await rejectsWith(
      loadOrCreatePki(options(dir, { extraSans: ['fe80::1%eth0'] })),
      'config.invalid',
      /extra SAN #1 "fe80::1%eth0"/,
    );
  });
});

describe('loadOrCreatePki, later starts', () => {
  it('reuses every file unchanged', async () => {
    const dir = tlsDir();
    const first = await loadOrCreatePki(options(dir));
    const before = snapshot(dir);
    const second = await loadOrCreatePki(options(dir));
    assert.deepEqual(snapshot(dir), before);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal(second.serverCertPem, first.serverCertPem);
    assert.equal(second.serverKeyPem, first.serverKeyPem);
    assert.deepEqual(second.bundlePublicKeyRaw, first.bundlePublicKeyRaw);
    assert.equal(second.bundlePublicKeyPem, first.bundlePublicKeyPem);
  });

  it('re-issues only the server certificate when an extra SAN is added, and logs why', async () => {
    const dir = tlsDir();
    await loadOrCreatePki(options(dir));
    const before = snapshot(dir);
    const { log, lines } = capturingLogger();
    const pki = await loadOrCreatePki(options(dir, { extraSans: ['203.0.113.7'], log }));
    const after = snapshot(dir);
    assert.notEqual(after['server.crt'], before['server.crt']);
    for (const name of ['ca.crt', 'ca.key', 'server.key', 'bundle-signing.key'])
      assert.equal(after[name], before[name], name);
    assert.ok(sanStrings(pki.serverCertPem).includes('ip:203.0.113.7'));
    const ca = new x509.X509Certificate(pki.caCertPem);
    assert.ok(await new x509.X509Certificate(pki.serverCertPem).verify({ publicKey: ca.publicKey }));
    const reissued = lines.find(
      (line) => line['msg'] === 're-issued the server certificate from the existing CA',
    );
    assert.match(String(reissued?.['reason']), /ip:203\.0\.113\.7/);
  });

  it('re-issues the server certificate when the hostname changes', async () => {
    const dir = tlsDir();
    await loadOrCreatePki(options(dir));
    const pki = await loadOrCreatePki(options(dir, { hostname: 'renamed.example.test' }));
    assert.ok(sanStrings(pki.serverCertPem).includes('dns:renamed.example.test'));
    assert.equal(new x509.X509Certificate(pki.serverCertPem).subject, 'CN=renamed.example.test');
  });

  it('re-issues the server certificate within 30 days of its expiry, not before', async () => {
    const dir = tlsDir();
    const start = new Date('2030-01-01T00:00:00Z');
    const first = await loadOrCreatePki(options(dir, { now: () => start }));
    const later = new Date(start.getTime() + 700 * dayMs);
    assert.equal(
      (await loadOrCreatePki(options(dir, { now: () => later }))).serverCertPem,
      first.serverCertPem,
    );
    const nearExpiry = new Date(start.getTime() + 800 * dayMs);
    const renewed = await loadOrCreatePki(options(dir, { now: () => nearExpiry }));
    assert.notEqual(renewed.serverCertPem, first.serverCertPem);
    assert.equal(renewed.caCertPem, first.caCertPem);
    assert.ok(
      new x509.X509Certificate(renewed.serverCertPem).notAfter >
        new x509.X509Certificate(first.serverCertPem).notAfter,
    );
  });

  it('issues a new server pair when both server files were deleted, keeping the CA', async () => {
    const dir = tlsDir();
    const first = await loadOrCreatePki(options(dir));
    unlinkSync(join(dir, 'server.crt'));
    unlinkSync(join(dir, 'server.key'));
    const second = await loadOrCreatePki(options(dir));
    assert.equal(second.caCertPem, first.caCertPem);
    assert.notEqual(second.serverKeyPem, first.serverKeyPem);
    const ca = new x509.X509Certificate(second.caCertPem);
    assert.ok(await new x509.X509Certificate(second.serverCertPem).verify({ publicKey: ca.publicKey }));
  });

  it('tightens a key file restored with loose permissions', async () => {
    const dir = tlsDir();
    await loadOrCreatePki(options(dir));
    chmodSync(join(dir, 'ca.key'), 0o644);
    await loadOrCreatePki(options(dir));
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  });
});

describe('loadOrCreatePki, damaged material', () => {
  async function refusesUntouched(
    damage: (dir: string) => void,
    file: string,
    pattern: RegExp,
  ): Promise<void> {
    const dir = tlsDir();
    await loadOrCreatePki(options(dir));
    damage(dir);
    const before = snapshot(dir);
    await rejectsWith(loadOrCreatePki(options(dir)), 'pki.material_invalid', pattern);
    await assert.rejects(loadOrCreatePki(options(dir)), (err: unknown) => {
      assert.ok(isVigoError(err));
      assert.equal(err.details['file'], join(dir, file));
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
  }

  it('refuses a corrupt ca.crt, naming it, and changes nothing', async () => {
    await refusesUntouched(
      (dir) =>
        writeFileSync(
          join(dir, 'ca.crt'),
          '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
        ),
      'ca.crt',
      /ca\.crt: is not a readable PEM certificate\. Restore it from a backup/,
    );
  });

  it('refuses missing pinned files instead of making a new CA, naming every one', async () => {
    const dir = tlsDir();
    await loadOrCreatePki(options(dir));
    unlinkSync(join(dir, 'ca.key'));
    unlinkSync(join(dir, 'bundle-signing.key'));
    const before = snapshot(dir);
    await assert.rejects(loadOrCreatePki(options(dir)), (err: unknown) => {
      assert.ok(isVigoError(err));
      assert.equal(err.code, 'pki.material_missing');
      assert.deepEqual(err.details['files'], [join(dir, 'ca.key'), join(dir, 'bundle-signing.key')]);
      assert.match(
        err.message,
        /^PKI material is missing: .*ca\.key, .*bundle-signing\.key\. .*Restore them from a backup of /,
      );
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
  });

  it('refuses a ca.key that belongs to another CA', async () => {
    const other = tlsDir();
    await loadOrCreatePki(options(other));
    await refusesUntouched(
      (dir) => writeFileSync(join(dir, 'ca.key'), readFileSync(join(other, 'ca.key'))),
      'ca.key',
      /ca\.key: is not the private key of .*ca\.crt/,
    );
  });

  it('refuses a bundle-signing.key that is not ed25519', async () => {
    await refusesUntouched(
      (dir) => writeFileSync(join(dir, 'bundle-signing.key'), readFileSync(join(dir, 'server.key'))),
      'bundle-signing.key',
      /bundle-signing\.key: holds a ec key, expected ed25519/,
    );
  });

  it('refuses a garbled server.key', async () => {
    await refusesUntouched(
      (dir) => writeFileSync(join(dir, 'server.key'), 'garbage'),
      'server.key',
      /server\.key: is not a readable PEM private key/,
    );
  });

  it('refuses a server.crt whose key is gone, saying how to get a new pair', async () => {
    await refusesUntouched(
      (dir) => unlinkSync(join(dir, 'server.key')),
      'server.key',
      /server\.key: is missing\. Delete both .*server\.crt and .*server\.key and restart/,
    );
  });
});

describe('loadOrCreatePki, when something depends on the PKI', () => {
  const because = 'the database records 2 enrolled envoys';

  it('refuses to create one in a directory that is gone, and leaves no trace', async () => {
    const dir = tlsDir();
    await assert.rejects(loadOrCreatePki(options(dir, { mustExistBecause: because })), (err: unknown) => {
      assert.ok(isVigoError(err));
      assert.equal(err.code, 'pki.material_missing');
      assert.match(
        err.message,
        /ca\.crt, .*ca\.key, .*bundle-signing\.key\. It cannot be re-created: the database records 2 enrolled envoys, and every envoy trusts/,
      );
      return true;
    });
    assert.equal(existsSync(dir), false, 'the TLS directory was re-created');
  });

  it('still loads an existing PKI and re-issues a missing server pair', async () => {
    const dir = tlsDir();
    const first = await loadOrCreatePki(options(dir));
    unlinkSync(join(dir, 'server.crt'));
    unlinkSync(join(dir, 'server.key'));
    const again = await loadOrCreatePki(options(dir, { mustExistBecause: because }));
    assert.equal(again.caCertPem, first.caCertPem);
    assert.ok(again.bundlePublicKeyRaw.equals(first.bundlePublicKeyRaw));
  });
});
