/**
 * A client certificate per seeded envoy, issued by the server's CA exactly as enrollment issues it
 * (CN and SAN URI `urn:vigo:envoy:<id>`, EKU clientAuth, same validity, extensions and signature
 * algorithm), so that every simulated envoy can open its own mTLS connection.
 *
 * Cost decides how: the server's issuer (@peculiar/x509 over WebCrypto) takes ~3.6 ms per certificate
 * here, six minutes for 100,000. So one certificate is issued through the server's own `signEnvoyCsr`
 * with a placeholder envoy id, and every envoy's certificate is that TBSCertificate with its own random
 * serial and its own id (a UUID, the same length as the placeholder, so no DER length changes), signed
 * by the CA key with node:crypto: ~60 µs each. A sample of the results is checked against the CA and
 * against the server's `envoyIdFromCert` before anything uses them.
 *
 * Every envoy's certificate certifies the SAME ECDSA P-256 TLS key: the server binds an envoy to the
 * SHA-256 fingerprint of its certificate, never to the key inside, and enrollment does not refuse a key
 * seen before, so sharing the key changes nothing the server does per connection (it still verifies the
 * chain and the CertificateVerify signature on every full handshake) and spares the load generators a
 * key per envoy. The ed25519 request-signing keys stay one per envoy.
 */
import { X509Certificate, createPrivateKey, createHash, randomBytes, randomUUID, sign } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { envoyIdFromCert } from '../../server/pki/index.ts';
import type { Pki } from '../../server/pki/index.ts';
import { generateAgentKeyAndCsr } from '../../server/pki/index.ts';

/** A certificate in the certs file: u16be length, then the DER, in a fixed slot. */
export const certSlotBytes = 1024;
const uuidLength = 36;
const verifiedSample = 16;

export interface EnvoyCertBinding {
  serial: string;
  fingerprintSha256: string;
}

export interface MintedCerts {
  /** `certSlotBytes` per envoy, in the order of the ids given. */
  certsFile: string;
  /** The one TLS private key (PKCS#8 PEM) every certificate certifies. */
  keyFile: string;
  bindings: EnvoyCertBinding[];
  mintMs: number;
}

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der[at]!;
  const first = der[at + 1]!;
  if (first < 0x80) return { tag, start: at, contentStart: at + 2, end: at + 2 + first };
  const lengthBytes = first & 0x7f;
  if (lengthBytes < 1 || lengthBytes > 3) throw new Error(`unexpected DER length form at ${at}`);
  const length = der.readUIntBE(at + 2, lengthBytes);
  return { tag, start: at, contentStart: at + 2 + lengthBytes, end: at + 2 + lengthBytes + length };
}

function derHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  if (length < 0x100) return Buffer.from([tag, 0x81, length]);
  if (length < 0x10000) return Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  throw new Error(`DER element of ${length} bytes is longer than a certificate can be`);
}

/** The parts of a certificate issued by `signEnvoyCsr` that per-envoy copies change or reuse. */
interface Template {
  tbs: Buffer;
  /** The DER signatureAlgorithm element that follows the TBSCertificate. */
  algorithmId: Buffer;
  serialAt: number;
  serialLength: number;
  /** Where the placeholder id sits in the TBS (CN and SAN URI). */
  idOffsets: number[];
}

function parseTemplate(der: Buffer, placeholderId: string): Template {
  const certificate = readTlv(der, 0);
  const tbsTlv = readTlv(der, certificate.contentStart);
  const algorithmTlv = readTlv(der, tbsTlv.end);
  const tbs = Buffer.from(der.subarray(tbsTlv.start, tbsTlv.end));
  const tbsContent = readTlv(tbs, 0).contentStart;
  const version = readTlv(tbs, tbsContent);
  const serial = readTlv(tbs, version.end);
  if (version.tag !== 0xa0 || serial.tag !== 0x02) throw new Error('the template is not an X.509 v3 TBS');
  const idOffsets: number[] = [];
  for (let at = tbs.indexOf(placeholderId, 0, 'ascii'); at >= 0; at = tbs.indexOf(placeholderId, at + 1)) {
    idOffsets.push(at);
  }
  if (idOffsets.length !== 2) {
    throw new Error(`the template names its envoy ${idOffsets.length} times; expected CN and SAN URI`);
  }
  return {
    tbs,
    algorithmId: Buffer.from(der.subarray(algorithmTlv.start, algorithmTlv.end)),
    serialAt: serial.contentStart,
    serialLength: serial.end - serial.contentStart,
    idOffsets,
  };
}

/**
 * A fresh serial in the template's encoding: 128 random bits as issue.ts draws them, with the leading
 * zero octet DER needs when the top bit is set, so the INTEGER keeps the template's length.
 */
function writeSerial(tbs: Buffer, template: Template): void {
  const random = randomBytes(16);
  if (template.serialLength === 17) {
    tbs[template.serialAt] = 0;
    random[0] = random[0]! | 0x80;
    random.copy(tbs, template.serialAt + 1);
  } else {
    random[0] = random[0]! & 0x7f || 1;
    random.copy(tbs, template.serialAt);
  }
}

function issueFrom(template: Template, caKey: ReturnType<typeof createPrivateKey>, envoyId: string): Buffer {
  if (envoyId.length !== uuidLength) throw new Error(`envoy id ${envoyId} is not a UUID`);
  const tbs = Buffer.from(template.tbs);
  writeSerial(tbs, template);
  for (const at of template.idOffsets) tbs.write(envoyId, at, 'ascii');
  const signature = sign('sha256', tbs, { key: caKey, dsaEncoding: 'der' });
  const bitString = Buffer.concat([derHeader(0x03, signature.length + 1), Buffer.from([0]), signature]);
  const body = [tbs, template.algorithmId, bitString];
  const length = body.reduce((n, part) => n + part.length, 0);
  return Buffer.concat([derHeader(0x30, length), ...body]);
}

function serialHex(der: Buffer): string {
  const tbs = readTlv(der, readTlv(der, 0).contentStart);
  const version = readTlv(der, tbs.contentStart);
  const serial = readTlv(der, version.end);
  const bytes = der.subarray(serial.contentStart, serial.end);
  return Buffer.from(bytes[0] === 0 ? bytes.subarray(1) : bytes).toString('hex');
}

/** Refuses to go on unless sampled certificates verify under the CA and name their envoy for the server. */
function checkSample(certs: Buffer[], ids: readonly string[], caCertPem: string): void {
  const ca = new X509Certificate(caCertPem);
  const step = Math.max(1, Math.floor(certs.length / verifiedSample));
  for (let i = 0; i < certs.length; i += step) {
    const cert = new X509Certificate(certs[i]!);
    if (!cert.verify(ca.publicKey) || !cert.checkIssued(ca)) {
      throw new Error(`minted certificate ${i} does not verify under the server's CA`);
    }
    if (envoyIdFromCert(certs[i]!) !== ids[i]) {
      throw new Error(`minted certificate ${i} does not name envoy ${ids[i]} for the server`);
    }
  }
}

/**
 * Issues one certificate per id through `pki` as described above and writes them to `certsFile`,
 * with the shared TLS key beside it in `keyFile`.
 */
export async function mintEnvoyCerts(options: {
  pki: Pick<Pki, 'signEnvoyCsr' | 'caCertPem'>;
  caKeyFile: string;
  ids: readonly string[];
  certsFile: string;
  keyFile: string;
}): Promise<MintedCerts> {
  const start = performance.now();
  const { keyPem, csrPem } = await generateAgentKeyAndCsr('bench-envoy');
  const placeholderId = randomUUID();
  const issued = await options.pki.signEnvoyCsr({ csrPem, envoyId: placeholderId });
  const template = parseTemplate(new X509Certificate(issued.certPem).raw, placeholderId);
  const caKey = createPrivateKey(readFileSync(options.caKeyFile));
  const certs = options.ids.map((id) => issueFrom(template, caKey, id));
  checkSample(certs, options.ids, options.pki.caCertPem);
  const slots = Buffer.alloc(certs.length * certSlotBytes);
  const bindings = certs.map((der, i) => {
    if (der.length + 2 > certSlotBytes)
      throw new Error(`certificate of ${der.length} bytes overflows a slot`);
    slots.writeUInt16BE(der.length, i * certSlotBytes);
    der.copy(slots, i * certSlotBytes + 2);
    return { serial: serialHex(der), fingerprintSha256: createHash('sha256').update(der).digest('hex') };
  });
  writeFileSync(options.certsFile, slots);
  writeFileSync(options.keyFile, keyPem, { mode: 0o600 });
  return {
    certsFile: options.certsFile,
    keyFile: options.keyFile,
    bindings,
    mintMs: performance.now() - start,
  };
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Certificates [first, first + count) of a certs file, as PEM (what node's TLS takes). */
export function readCertSlice(file: string, first: number, count: number): string[] {
  const bytes = Buffer.alloc(count * certSlotBytes);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, bytes, 0, bytes.length, first * certSlotBytes);
    if (read !== bytes.length) throw new Error(`${file} holds fewer than ${first + count} certificates`);
  } finally {
    closeSync(fd);
  }
  return Array.from({ length: count }, (_, i) => {
    const at = i * certSlotBytes;
    return toPem(bytes.subarray(at + 2, at + 2 + bytes.readUInt16BE(at)));
  });
}
