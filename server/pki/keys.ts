/**
 * Private keys on disk are PKCS#8 PEM. node:crypto parses and checks them (it gives clear failures for
 * garbage and tells us the key type); WebCrypto holds the ECDSA keys @peculiar/x509 signs with.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { VigoError } from '../core/index.ts';
import { ecKeyAlgorithm, webcrypto, type EcKeyPair } from './x509-setup.ts';

export interface LoadedEcKey {
  keys: EcKeyPair;
  /** DER SubjectPublicKeyInfo of the key's public half, to match it against a certificate. */
  spkiDer: Buffer;
}

export interface BundleKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyRaw: Buffer;
  publicKeyPem: string;
}

export function materialInvalid(file: string, problem: string, fix: string, cause?: unknown): VigoError {
  return new VigoError('pki.material_invalid', `${file}: ${problem}. ${fix}`, { file }, { cause });
}

export async function generateEcKeyPair(): Promise<EcKeyPair> {
  return webcrypto.subtle.generateKey(ecKeyAlgorithm, true, ['sign', 'verify']);
}

export async function ecPrivateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

function parsePrivateKey(pem: string, file: string, fix: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw materialInvalid(file, 'is not a readable PEM private key', fix, err);
  }
}

/** Loads an ECDSA P-256 PKCS#8 PEM key; anything else is refused with the file named. */
export async function loadEcPrivateKey(pem: string, file: string, fix: string): Promise<LoadedEcKey> {
  const keyObject = parsePrivateKey(pem, file, fix);
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  if (keyObject.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const found =
      keyObject.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : keyObject.asymmetricKeyType;
    throw materialInvalid(file, `holds a ${found ?? 'unknown'} key, expected ECDSA P-256`, fix);
  }
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, ecKeyAlgorithm, false, ['sign']);
  const spkiDer = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spkiDer, ecKeyAlgorithm, true, ['verify']);
  return { keys: { privateKey, publicKey }, spkiDer };
}

function bundleKeysFrom(privateKey: KeyObject): BundleKeys {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const publicKeyRaw = Buffer.from(jwk.x ?? '', 'base64url');
  return {
    privateKey,
    publicKey,
    publicKeyRaw,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

export function generateBundleKeys(): { keys: BundleKeys; privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { keys: bundleKeysFrom(privateKey), privateKeyPem };
}

export function loadBundleKeys(pem: string, file: string, fix: string): BundleKeys {
  const keyObject = parsePrivateKey(pem, file, fix);
  if (keyObject.asymmetricKeyType !== 'ed25519') {
    throw materialInvalid(
      file,
      `holds a ${keyObject.asymmetricKeyType ?? 'unknown'} key, expected ed25519`,
      fix,
    );
  }
  const keys = bundleKeysFrom(keyObject);
  if (keys.publicKeyRaw.length !== 32) throw materialInvalid(file, 'holds a malformed ed25519 key', fix);
  return keys;
}
