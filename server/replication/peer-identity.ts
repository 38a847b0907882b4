/**
 * This server's peer identity: an ECDSA P-256 key and a self-signed certificate in `<data_dir>/replication/`,
 * made once and never replicated (the fleet's tls/ is, so it cannot identify one peer). Peers authenticate
 * each other by the SHA-256 fingerprint of this certificate, pinned in each other's `peers:` list, the way
 * SSH pins host keys: both ends of the replication link present their certificate and each refuses any
 * other.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../core/index.ts';
import { ecPrivateKeyToPem, generateEcKeyPair } from '../pki/keys.ts';
import { randomSerialHex } from '../pki/issue.ts';
import { ecSigningAlgorithm, x509 } from '../pki/x509-setup.ts';
import { replicationDir } from './state.ts';

export interface PeerIdentity {
  readonly keyPem: string;
  readonly certPem: string;
  /** `sha256:<64 hex>` of the certificate's DER. */
  readonly fingerprint: string;
}

const validityMs = 20 * 365 * 24 * 3600 * 1000;

export function fingerprintOf(der: Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export const fingerprintPattern = /^sha256:[0-9a-f]{64}$/;

export async function loadOrCreatePeerIdentity(dataDir: string, name: string): Promise<PeerIdentity> {
  const dir = replicationDir(dataDir);
  const keyFile = join(dir, 'peer.key');
  const certFile = join(dir, 'peer.crt');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const keys = await generateEcKeyPair();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerialHex(),
      name: [{ CN: [`vigosrv peer ${name}`.slice(0, 64)] }],
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + validityMs),
      keys,
      signingAlgorithm: ecSigningAlgorithm,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    });
    writePrivateFile(keyFile, await ecPrivateKeyToPem(keys.privateKey));
    writePrivateFile(certFile, cert.toString('pem'));
  }
  const certPem = readFileSync(certFile, 'utf8');
  return {
    keyPem: readFileSync(keyFile, 'utf8'),
    certPem,
    fingerprint: fingerprintOf(new X509Certificate(certPem).raw),
  };
}
