import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVigoError, silentLogger } from '../core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki, type Pki } from './index.ts';
import { x509, webcrypto } from './x509-setup.ts';

const dayMs = 24 * 60 * 60 * 1000;
const envoyId = '0b6f4c1e-7d2a-4f4e-9a51-2f1d3c4b5a69';
const now = new Date('2031-06-01T12:00:00Z');

let root = '';
let pki: Pki;
let otherPki: Pki;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigo-'));
  const base = { hostname: 'vigo.example.test', extraSans: [], log: silentLogger, now: () => now };
  pki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'ours') });
  otherPki = await loadOrCreatePki({ ...base, tlsDir: join(root, 'other') });
});

after(() => rmSync(root, { recursive: true, force: true }));

async function csrFor(
  algorithm: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | { name: 'Ed25519' },
  signingAlgorithm: object,
  extensions: x509.Extension[] = [],
): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: ['admin'] }, { O: ['Evil Corp'] }],
    keys,
    signingAlgorithm,
    extensions,
  });
  return csr.toString('pem');
}

async function refused(promise: Promise<unknown>, pattern: RegExp, code = 'pki.csr_invalid'): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVigoError(err), `expected a VigoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

function derOf(pem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(pem));
}

describe('generateAgentKeyAndCsr', () => {
  it('makes a P-256 PKCS#8 key and a CSR for that key', async () => {
    const { keyPem, csrPem } = await generateAgentKeyAndCsr('web-01.example.test');
    const key = createPrivateKey(keyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    assert.ok(await csr.verify());
    assert.equal(csr.subject, 'CN=web-01.example.test');
    const csrKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    assert.ok(csrKey.equals(createPublicKey(key)));
  });
});

describe('signEnvoyCsr', () => {
  it('issues a client certificate that chains to our CA and not to another', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('web-01');
    const issued = await pki.signEnvoyCsr({ csrPem, envoyId });
    const cert = new x509.X509Certificate(issued.certPem);
    const ca = new x509.X509Certificate(pki.caCertPem);
    const otherCa = new x509.X509Certificate(otherPki.caCertPem);
    assert.ok(await cert.verify({ publicKey: ca.publicKey, date: now }));
    assert.equal(await cert.verify({ publicKey: otherCa.publicKey, date: now }), false);
    assert.equal(cert.issuer, ca.subject);
    assert.ok(new NodeX509Certificate(issued.certPem).checkIssued(new NodeX509Certificate(pki.caCertPem)));
  });

  it('names the envoy id, whatever subject and SANs the CSR asked for', async () => {
    const wanted = new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'vigo.example.test' },
      { type: 'url', value: 'urn:vigo:envoy:someone-else' },
    ]);
    const csrPem = await csrFor({ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }, [
      wanted,
      new x509.BasicConstraintsExtension(true, 5, true),
    ]);
    const cert = new x509.X509Certificate((await pki.signEnvoyCsr({ csrPem, envoyId })).certPem);
    assert.equal(cert.subject, `CN=${envoyId}`);
    const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
    assert.deepEqual(
      sans.map((name) => `${name.type}:${name.value}`),
      [`url:urn:vigo:envoy:${envoyId}`],
    );
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    assert.deepEqual(
      [...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.clientAuth],
    );
    assert.equal(pki.envoyIdFromCert(cert.toString('pem')), envoyId);
  });

  it('is valid for 365 days by default, or as asked', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('web-01');
    const byDefault = new x509.X509Certificate((await pki.signEnvoyCsr({ csrPem, envoyId })).certPem);
    assert.equal(Math.round((byDefault.notAfter.getTime() - now.getTime()) / dayMs), 365);
    const short = new x509.X509Certificate(
      (await pki.signEnvoyCsr({ csrPem, envoyId, validityDays: 30 })).certPem,
    );
    assert.equal(Math.round((short.notAfter.getTime() - now.getTime()) / dayMs), 30);
    assert.ok(short.notBefore <= now);
  });

  it('reports the serial and fingerprint of the certificate, fresh for every certificate', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('web-01');
    const first = await pki.signEnvoyCsr({ csrPem, envoyId });
    const second = await pki.signEnvoyCsr({ csrPem, envoyId });
    const nodeCert = new NodeX509Certificate(first.certPem);
    assert.equal(first.serial, nodeCert.serialNumber.toLowerCase());
    assert.equal(first.fingerprintSha256, nodeCert.fingerprint256.replaceAll(':', '').toLowerCase());
    assert.notEqual(first.serial, second.serial);
    assert.notEqual(first.fingerprintSha256, second.fingerprintSha256);
  });

  it('accepts an ed25519 key', async () => {
    const csrPem = await csrFor({ name: 'Ed25519' }, { name: 'Ed25519' });
    const cert = new x509.X509Certificate((await pki.signEnvoyCsr({ csrPem, envoyId })).certPem);
    assert.deepEqual(cert.publicKey.algorithm, { name: 'Ed25519' });
    assert.ok(await cert.verify({ publicKey: new x509.X509Certificate(pki.caCertPem).publicKey, date: now }));
  });

  it('refuses RSA and other curves, saying which keys are accepted', async () => {
    const rsa = await csrFor(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      { name: 'RSASSA-PKCS1-v1_5' },
    );
    await refused(
      pki.signEnvoyCsr({ csrPem: rsa, envoyId }),
      /key is RSASSA-PKCS1-v1_5 2048-bit; only ECDSA P-256 and Ed25519/,
    );
    const p384 = await csrFor({ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' });
    await refused(pki.signEnvoyCsr({ csrPem: p384, envoyId }), /key is ECDSA P-384/);
  });

  it('refuses malformed input, saying what is wrong', async () => {
    await refused(pki.signEnvoyCsr({ csrPem: 'hello', envoyId }), /no PEM block found/);
    await refused(pki.signEnvoyCsr({ csrPem: pki.caCertPem, envoyId }), /PEM block is a "CERTIFICATE"/);
    const junk = '-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE REQUEST-----\n';
    await refused(pki.signEnvoyCsr({ csrPem: junk, envoyId }), /does not decode as a PKCS#10/);
    const { csrPem } = await generateAgentKeyAndCsr('web-01');
    await refused(pki.signEnvoyCsr({ csrPem: csrPem + csrPem, envoyId }), /expected one PEM block, found 2/);
    await refused(pki.signEnvoyCsr({ csrPem: 'A'.repeat(20_000), envoyId }), /at most 16384/);
    await refused(
      pki.signEnvoyCsr({ csrPem: undefined as unknown as string, envoyId }),
      /must be a PEM string/,
    );
  });

  it('refuses a CSR altered after it was signed', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('host-a');
    const der = derOf(csrPem);
    const at = der.indexOf('host-a');
    assert.ok(at > 0);
    der.write('host-b', at);
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await refused(pki.signEnvoyCsr({ csrPem: tampered, envoyId }), /signature does not match its public key/);
  });

  it('refuses an envoy id that is not a plain token', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('web-01');
    for (const bad of ['', '../etc', 'a b', 'x'.repeat(65), 'id\n']) {
      await refused(pki.signEnvoyCsr({ csrPem, envoyId: bad }), /envoy id .* must be 1-64 characters/);
    }
    await refused(
      pki.signEnvoyCsr({ csrPem, envoyId, validityDays: 0 }),
      /validityDays must be a whole number of days/,
      'request.invalid',
    );
  });
});
