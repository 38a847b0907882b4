/**
 * Certificate signing requests from enrolling envoys. A CSR is untrusted input: only its public key is
 * used, and only after its self-signature proves the requester holds the matching private key.
 */
import { VigoError } from '../core/index.ts';
import { ecPrivateKeyToPem, generateEcKeyPair } from './keys.ts';
import { commonName } from './issue.ts';
import { ecSigningAlgorithm, toPem, x509 } from './x509-setup.ts';

/** A P-256 or ed25519 CSR is well under 1 KiB; anything this large is not one. */
const maxCsrPemLength = 16 * 1024;
const csrPemTypes = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** The parts of a WebCrypto key algorithm description we look at. */
interface KeyAlgorithm {
  name: string;
  namedCurve?: unknown;
  modulusLength?: unknown;
}

function csrInvalid(problem: string, cause?: unknown): VigoError {
  return new VigoError('pki.csr_invalid', `certificate signing request refused: ${problem}`, {}, { cause });
}

function decodeCsrPem(csrPem: string): ArrayBuffer {
  if (csrPem.length > maxCsrPemLength) {
    throw csrInvalid(`it is ${csrPem.length} characters long; a CSR is at most ${maxCsrPemLength}`);
  }
  let blocks: x509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(csrPem);
  } catch (err) {
    throw csrInvalid('it is not valid PEM (expected "-----BEGIN CERTIFICATE REQUEST-----")', err);
  }
  const [block] = blocks;
  if (block === undefined) {
    throw csrInvalid('no PEM block found (expected "-----BEGIN CERTIFICATE REQUEST-----")');
  }
  if (blocks.length > 1) throw csrInvalid(`expected one PEM block, found ${blocks.length}`);
  if (!csrPemTypes.has(block.type)) {
    throw csrInvalid(`the PEM block is a "${block.type}", expected a "CERTIFICATE REQUEST"`);
  }
  return block.rawData;
}

function describeKey(algorithm: KeyAlgorithm): string {
  if (typeof algorithm.namedCurve === 'string') return `${algorithm.name} ${algorithm.namedCurve}`;
  if (typeof algorithm.modulusLength === 'number') return `${algorithm.name} ${algorithm.modulusLength}-bit`;
  return algorithm.name;
}

function isAcceptedKey(algorithm: KeyAlgorithm): boolean {
  return (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') || algorithm.name === 'Ed25519';
}

/** Parses a PEM CSR and checks its key type and self-signature; returns the key it certifies. */
export async function parseVerifiedCsr(csrPem: unknown): Promise<x509.PublicKey> {
  if (typeof csrPem !== 'string') throw csrInvalid('the CSR must be a PEM string');
  const der = decodeCsrPem(csrPem);
  let csr: x509.Pkcs10CertificateRequest;
  let algorithm: KeyAlgorithm;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
    algorithm = csr.publicKey.algorithm as KeyAlgorithm;
  } catch (err) {
    throw csrInvalid('the PEM block does not decode as a PKCS#10 certificate request', err);
  }
  if (!isAcceptedKey(algorithm)) {
    throw csrInvalid(`its key is ${describeKey(algorithm)}; only ECDSA P-256 and Ed25519 keys are accepted`);
  }
  let signatureOk: boolean;
  try {
    signatureOk = await csr.verify();
  } catch (err) {
    throw csrInvalid('its signature cannot be checked (malformed signature or unsupported algorithm)', err);
  }
  if (!signatureOk) {
    throw csrInvalid(
      'its signature does not match its public key: the request was altered or signed with another key',
    );
  }
  return csr.publicKey;
}

/**
 * A fresh ECDSA P-256 key and a CSR for it, as the reference agent sends at enrollment. The CN is only
 * informative: the server names the certificate after the envoy id it assigns.
 */
export async function generateAgentKeyAndCsr(hostname: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateEcKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName(hostname.length > 0 ? hostname : 'vigo-envoy')] }],
    keys,
    signingAlgorithm: ecSigningAlgorithm,
  });
  return { keyPem: await ecPrivateKeyToPem(keys.privateKey), csrPem: toPem(csr) };
}
