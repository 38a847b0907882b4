/**
 * The PKI files under the TLS directory: created on first start, reused unchanged afterwards. The CA
 * and the bundle-signing key are pinned by every enrolled envoy, so they are never regenerated over
 * a damaged or half-present set: that would orphan the whole fleet. The server certificate is derived
 * from the CA and is re-issued whenever it no longer fits (names, expiry, issuer).
 */
import { createPublicKey } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JsonGeneralName } from '@peculiar/x509';
import { VigoError, ensurePrivateDir, writePrivateFile, type Logger } from '../core/index.ts';
import { createCaCert, issueServerCert, type CaMaterial } from './issue.ts';
import {
  ecPrivateKeyToPem,
  generateBundleKeys,
  generateEcKeyPair,
  loadBundleKeys,
  loadEcPrivateKey,
  materialInvalid,
  type BundleKeys,
} from './keys.ts';
import { missingSans } from './sans.ts';
import { toPem, x509 } from './x509-setup.ts';

const dayMs = 24 * 60 * 60 * 1000;
/** Re-issue the server certificate this long before it expires, so a restart always leaves headroom. */
const serverRenewBeforeDays = 30;
const caExpiryWarnDays = 90;

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  bundleKey: string;
}

export function pkiPaths(tlsDir: string): PkiPaths {
  const dir = resolve(tlsDir);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    bundleKey: join(dir, 'bundle-signing.key'),
  };
}

export interface PkiMaterial {
  ca: CaMaterial;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  bundle: BundleKeys;
}

export interface MaterialOptions {
  paths: PkiPaths;
  hostname: string;
  sans: JsonGeneralName[];
  log: Logger;
  now: Date;
  /**
   * Why the CA and bundle key must already exist (say, "the database records 3 enrolled envoys"): when set,
   * missing ones are never created, whatever else is or is not in the directory.
   */
  mustExistBecause?: string;
}

type FileKey = Exclude<keyof PkiPaths, 'dir'>;
type FileTexts = Record<FileKey, string | undefined>;

const fileKeys: readonly FileKey[] = ['caCert', 'caKey', 'serverCert', 'serverKey', 'bundleKey'];
/** What every enrolled envoy trusts: never regenerated once a fleet depends on it. */
const pinnedKeys = ['caCert', 'caKey', 'bundleKey'] as const;

function pinnedFix(paths: PkiPaths): string {
  return (
    'Restore it from a backup of the TLS directory. Every enrolled envoy trusts this CA and bundle key; ' +
    `only on a server with no enrolled envoys may you delete every file in ${paths.dir} to start a new PKI`
  );
}

function serverFix(paths: PkiPaths): string {
  return `Delete both ${paths.serverCert} and ${paths.serverKey} and restart: vigosrv issues a new pair from the CA`;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw materialInvalid(
      file,
      `cannot be read (${(err as Error).message})`,
      'Check its owner and permissions',
      err,
    );
  }
}

function parseCert(pem: string, file: string, fix: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (err) {
    throw materialInvalid(file, 'is not a readable PEM certificate', fix, err);
  }
}

function sameKey(cert: x509.X509Certificate, spkiDer: Buffer): boolean {
  const certKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  return certKey.equals(createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }));
}

async function loadCa(texts: FileTexts, options: MaterialOptions): Promise<CaMaterial> {
  const { paths, log, now } = options;
  const fix = pinnedFix(paths);
  const cert = parseCert(texts.caCert ?? '', paths.caCert, fix);
  const loaded = await loadEcPrivateKey(texts.caKey ?? '', paths.caKey, fix);
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw materialInvalid(paths.caCert, 'is not a CA certificate (basicConstraints CA:TRUE missing)', fix);
  }
  if (!sameKey(cert, loaded.spkiDer)) {
    throw materialInvalid(paths.caKey, `is not the private key of ${paths.caCert}`, fix);
  }
  const daysLeft = Math.floor((cert.notAfter.getTime() - now.getTime()) / dayMs);
  if (daysLeft < 0) {
    log.error('the CA certificate has expired: envoys cannot connect until the PKI is replaced', {
      file: paths.caCert,
      notAfter: cert.notAfter.toISOString(),
    });
  } else if (daysLeft < caExpiryWarnDays) {
    log.warn('the CA certificate expires soon', {
      file: paths.caCert,
      notAfter: cert.notAfter.toISOString(),
      daysLeft,
    });
  }
  return { cert, keys: loaded.keys };
}

/** Why the existing server certificate must be replaced, or undefined if it is still fit. */
async function serverReissueReason(
  cert: x509.X509Certificate,
  keySpki: Buffer,
  options: MaterialOptions & { ca: CaMaterial },
): Promise<string | undefined> {
  const { ca, now } = options;
  if (!sameKey(cert, keySpki)) return 'server.crt does not match server.key';
  if (!(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))) {
    return 'server.crt was not issued by ca.crt';
  }
  const missing = missingSans(cert, options.sans);
  if (missing.length > 0) return `server.crt lacks the names ${missing.join(', ')}`;
  if (cert.notBefore.getTime() > now.getTime()) return 'server.crt is not valid yet';
  if (cert.notAfter.getTime() - now.getTime() < serverRenewBeforeDays * dayMs) {
    return `server.crt expires on ${cert.notAfter.toISOString()}, within ${serverRenewBeforeDays} days`;
  }
  return undefined;
}

async function issueServerPem(
  options: MaterialOptions,
  ca: CaMaterial,
  serverPublicKey: x509.PublicKey,
): Promise<string> {
  const cert = await issueServerCert({
    ca,
    serverPublicKey,
    hostname: options.hostname,
    sans: options.sans,
    now: options.now,
  });
  return toPem(cert);
}

/** A new key and certificate, written key first so a crash never leaves a certificate without its key. */
async function createServerPair(
  options: MaterialOptions,
  ca: CaMaterial,
): Promise<{ serverCertPem: string; serverKeyPem: string }> {
  const keys = await generateEcKeyPair();
  const serverKeyPem = await ecPrivateKeyToPem(keys.privateKey);
  const serverCertPem = await issueServerPem(options, ca, await x509.PublicKey.create(keys.publicKey));
  writePrivateFile(options.paths.serverKey, serverKeyPem);
  writePrivateFile(options.paths.serverCert, serverCertPem);
  return { serverCertPem, serverKeyPem };
}

async function loadServerPair(
  texts: FileTexts,
  options: MaterialOptions,
  ca: CaMaterial,
): Promise<{ serverCertPem: string; serverKeyPem: string }> {
  const { paths, log } = options;
  if (texts.serverCert === undefined && texts.serverKey === undefined) {
    log.warn('server certificate and key are missing: issuing a new pair from the CA', { dir: paths.dir });
    return createServerPair(options, ca);
  }
  const fix = serverFix(paths);
  if (texts.serverKey === undefined) throw materialInvalid(paths.serverKey, 'is missing', fix);
  if (texts.serverCert === undefined) throw materialInvalid(paths.serverCert, 'is missing', fix);
  const key = await loadEcPrivateKey(texts.serverKey, paths.serverKey, fix);
  const cert = parseCert(texts.serverCert, paths.serverCert, fix);
  const reason = await serverReissueReason(cert, key.spkiDer, { ...options, ca });
  if (reason === undefined) return { serverCertPem: texts.serverCert, serverKeyPem: texts.serverKey };
  const serverCertPem = await issueServerPem(options, ca, await x509.PublicKey.create(key.keys.publicKey));
  writePrivateFile(paths.serverCert, serverCertPem);
  log.info('re-issued the server certificate from the existing CA', { reason, file: paths.serverCert });
  return { serverCertPem, serverKeyPem: texts.serverKey };
}

async function createFresh(options: MaterialOptions): Promise<PkiMaterial> {
  const { paths, log } = options;
  const caKeys = await generateEcKeyPair();
  const caCert = await createCaCert(caKeys, options.hostname, options.now);
  const ca = { cert: caCert, keys: caKeys };
  const caCertPem = toPem(caCert);
  const bundle = generateBundleKeys();
  writePrivateFile(paths.caKey, await ecPrivateKeyToPem(caKeys.privateKey));
  writePrivateFile(paths.caCert, caCertPem);
  writePrivateFile(paths.bundleKey, bundle.privateKeyPem);
  const server = await createServerPair(options, ca);
  log.info('created a new PKI: CA, server certificate and bundle-signing key', {
    dir: paths.dir,
    caFile: paths.caCert,
    caSubject: caCert.subject,
    caNotAfter: caCert.notAfter.toISOString(),
    bundleKeyFile: paths.bundleKey,
  });
  return { ca, caCertPem, ...server, bundle: bundle.keys };
}

/** Files restored from a backup or written by hand may be too open; tighten them, never loosen. */
function tightenModes(paths: PkiPaths, log: Logger): void {
  for (const key of fileKeys) {
    const file = paths[key];
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    chmodSync(file, 0o600);
    log.warn('tightened the permissions of a PKI file to 0600', { file, previousMode: mode.toString(8) });
  }
}

/**
 * Missing pinned files, named together with the way back. With `mustExistBecause` the message says what
 * depends on them; otherwise the directory is partly there, which vigosrv never completes on its own.
 */
function missingPinned(missing: readonly string[], options: MaterialOptions): VigoError {
  const { paths, mustExistBecause } = options;
  const files = missing.join(', ');
  const because =
    mustExistBecause === undefined
      ? `the rest of ${paths.dir} is there, so this is not a first start`
      : `${mustExistBecause}, and every envoy trusts this CA and bundle-signing key: a new PKI would cut the ` +
        'whole fleet off';
  return new VigoError(
    'pki.material_missing',
    `PKI material is missing: ${files}. It cannot be re-created: ${because}. Restore ${missing.length === 1 ? 'it' : 'them'} ` +
      `from a backup of ${paths.dir} (taken together with the database) and start vigosrv again; nothing was created. ` +
      `Only on a server without enrolled envoys or published configuration may you delete every file in ${paths.dir} ` +
      'to start a new PKI.',
    { files: [...missing], dir: paths.dir },
  );
}

export async function loadOrCreateMaterial(options: MaterialOptions): Promise<PkiMaterial> {
  const { paths } = options;
  const texts = Object.fromEntries(fileKeys.map((key) => [key, readOptional(paths[key])])) as FileTexts;
  const missing = pinnedKeys.filter((key) => texts[key] === undefined).map((key) => paths[key]);
  const firstStart = fileKeys.every((key) => texts[key] === undefined);
  if (missing.length > 0 && (options.mustExistBecause !== undefined || !firstStart))
    throw missingPinned(missing, options);
  // Created only now, so a refused start leaves no trace of itself in a directory that was removed.
  ensurePrivateDir(paths.dir);
  if (firstStart) return createFresh(options);

  const ca = await loadCa(texts, options);
  const bundle = loadBundleKeys(texts.bundleKey ?? '', paths.bundleKey, pinnedFix(paths));
  const server = await loadServerPair(texts, options, ca);
  tightenModes(paths, options.log);
  options.log.info('loaded the PKI', { dir: paths.dir, caSubject: ca.cert.subject });
  return { ca, caCertPem: texts.caCert ?? '', ...server, bundle };
}
