import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { JsonGeneralName } from '@peculiar/x509';
import { envoyIdFromCert, fingerprintSha256, isEnvoyId, splitSubjectAltNames } from './envoy-identity.ts';
import { generateEcKeyPair } from './keys.ts';
import { ecSigningAlgorithm, x509 } from './x509-setup.ts';

async function certWith(cn: string, sans: JsonGeneralName[] | undefined): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [cn] }],
    keys: await generateEcKeyPair(),
    signingAlgorithm: ecSigningAlgorithm,
    extensions: sans ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
}

describe('envoyIdFromCert', () => {
  it('reads the id from the SAN URI, from DER bytes or PEM', async () => {
    const cert = await certWith('ignored-cn', [{ type: 'url', value: 'urn:vigo:envoy:abc-123' }]);
    assert.equal(envoyIdFromCert(new Uint8Array(cert.rawData)), 'abc-123');
    assert.equal(envoyIdFromCert(Buffer.from(cert.rawData)), 'abc-123');
    assert.equal(envoyIdFromCert(cert.toString('pem')), 'abc-123');
  });

  it('falls back to the CN when no envoy URI is present', async () => {
    assert.equal(envoyIdFromCert((await certWith('cn-only-1', undefined)).toString('pem')), 'cn-only-1');
    const dnsOnly = await certWith('cn-only-2', [{ type: 'dns', value: 'web.example.test' }]);
    assert.equal(envoyIdFromCert(dnsOnly.toString('pem')), 'cn-only-2');
  });

  it('names nobody when the URIs disagree or the id is not a plain token', async () => {
    const twoIds = await certWith('cn', [
      { type: 'url', value: 'urn:vigo:envoy:first' },
      { type: 'url', value: 'urn:vigo:envoy:second' },
    ]);
    assert.equal(envoyIdFromCert(twoIds.toString('pem')), undefined);
    const badId = await certWith('cn', [{ type: 'url', value: 'urn:vigo:envoy:../../etc' }]);
    assert.equal(envoyIdFromCert(badId.toString('pem')), undefined);
    assert.equal(envoyIdFromCert((await certWith('not a token', undefined)).toString('pem')), undefined);
  });

  it('is not fooled by an envoy URI hidden inside another SAN value', async () => {
    const sneaky = await certWith('honest-id', [
      { type: 'email', value: 'a, URI:urn:vigo:envoy:victim, b@example.test' },
    ]);
    assert.equal(envoyIdFromCert(sneaky.toString('pem')), 'honest-id');
  });

  it('returns undefined for bytes that are not a certificate', () => {
    assert.equal(envoyIdFromCert(Buffer.from('not a certificate')), undefined);
    assert.equal(envoyIdFromCert(''), undefined);
    assert.equal(envoyIdFromCert(new Uint8Array()), undefined);
  });
});

describe('splitSubjectAltNames', () => {
  it("splits node's subjectAltName text, honouring JSON-quoted values", () => {
    assert.deepEqual(
      splitSubjectAltNames('DNS:a.example, URI:urn:vigo:envoy:x, email:"q, \\"URI:y\\", z", IP Address:::1'),
      [
        { type: 'DNS', value: 'a.example' },
        { type: 'URI', value: 'urn:vigo:envoy:x' },
        { type: 'email', value: 'q, "URI:y", z' },
        { type: 'IP Address', value: '::1' },
      ],
    );
    assert.deepEqual(splitSubjectAltNames(''), []);
  });
});

describe('isEnvoyId and fingerprintSha256', () => {
  it('accepts 1-64 letters, digits and hyphens only', () => {
    assert.ok(isEnvoyId('0b6f4c1e-7d2a-4f4e-9a51-2f1d3c4b5a69'));
    assert.ok(isEnvoyId('x'.repeat(64)));
    for (const bad of ['', 'x'.repeat(65), 'a_b', 'a.b', 'é']) assert.equal(isEnvoyId(bad), false, bad);
  });

  it("matches node's fingerprint256, in lower-case hex", async () => {
    const cert = await certWith('fp', undefined);
    const expected = new NodeX509Certificate(cert.toString('pem')).fingerprint256
      .replaceAll(':', '')
      .toLowerCase();
    assert.equal(fingerprintSha256(new Uint8Array(cert.rawData)), expected);
  });
});
