/**
 * Seeding tool: inserts N envoys straight into a vigosrv data directory, each with its own ed25519 key,
 * bound either to its own client certificate (as enrollment leaves it: per-envoy connections) or all to
 * ONE client certificate issued by the server's CA. The server only checks that the TLS client
 * certificate's fingerprint equals the envoy's recorded one, so with the shared certificate a load
 * generator can speak for every envoy over a few shared connections; `bindAllTo` rebinds a seeded fleet
 * that way. Private keys go to a file (seed, public key and id per envoy) that the load generators read,
 * so no process regenerates or re-enrolls 100,000 keys; per-envoy certificates go to another
 * (envoy-certs.ts).
 *
 *   node --import tsx bench/checkin/seed.ts <data-dir> <envoys> [--per-envoy-certs]
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dirname, join } from 'node:path';
import { silentLogger } from '../../server/core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../../server/pki/index.ts';
import type { Pki } from '../../server/pki/index.ts';
import { openStore } from '../../server/store/index.ts';
import { mintEnvoyCerts } from './envoy-certs.ts';
import type { EnvoyCertBinding } from './envoy-certs.ts';

const seedBytes = 32;
const publicKeyBytes = 32;
const idBytes = 36;
/** One envoy in the keys file: its private key seed, its raw public key, then its id (a UUID in ASCII). */
export const envoyRecordBytes = seedBytes + publicKeyBytes + idBytes;
const loadgenIdentity = 'bench-loadgen';
const keyBatch = 5000;

export interface SeedOptions {
  /** A vigosrv data directory (the server need not have run in it; PKI and schema are created if missing). */
  dataDir: string;
  envoys: number;
  /** Where the keys file and the load generator's client certificate are written. */
  outDir: string;
  /** The shared client certificate; every envoy is bound to it unless `perEnvoyCerts` is set. */
  identity: LoadgenIdentity;
  /** Issue each envoy its own client certificate from this PKI and bind the envoy to it. */
  perEnvoyCerts?: Pki | undefined;
}

/** The one client certificate every simulated envoy is bound to, and the CA to trust the server by. */
export interface LoadgenIdentity {
  caFile: string;
  clientKeyFile: string;
  clientCertFile: string;
  serial: string;
  fingerprintSha256: string;
}

export interface SeededEnvoys {
  envoys: number;
  /** The keys file: `envoyRecordBytes` per envoy, in hostname order. */
  envoysFile: string;
  keysMs: number;
  insertMs: number;
  /** Set when each envoy has its own client certificate. */
  certs?: { certsFile: string; keyFile: string; mintMs: number } | undefined;
}

/** The hostname of the envoy at `index` in the keys file. */
export function hostnameOf(index: number): string {
  return `host-${index}.bench.example.com`;
}

/**
 * The private KeyObject of a seed and its public key. Imported as a JWK because OpenSSL 3 decodes the
 * equivalent PKCS#8 DER about ten times slower, which would cost minutes for 100,000 keys.
 */
export function privateKeyFromSeed(seed: Uint8Array, publicKey: Uint8Array): KeyObject {
  return createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: Buffer.from(seed).toString('base64url'),
      x: Buffer.from(publicKey).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** A full garbage collection, exposing `gc` first when the process was started without --expose-gc. */
function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function writeKeysFile(file: string, envoys: number): { ids: string[]; publicKeys: Buffer[] } {
  const records = Buffer.alloc(envoys * envoyRecordBytes);
  const ids: string[] = [];
  const publicKeys: Buffer[] = [];
  const gc = fullGc();
  for (let first = 0; first < envoys; first += keyBatch) {
    const batch = Array.from({ length: Math.min(keyBatch, envoys - first) }, () =>
      generateKeyPairSync('ed25519'),
    );
    // Node 20 deadlocks when the GC destroys a key's generation job while that key's JWK is being exported
    // (both take the key's mutex; seen as the main thread stuck in ~KeyGenJob under ExportJWKEdKey). Once
    // the batch's jobs are collected, exporting is safe, and still three times faster than DER export.
    gc();
    batch.forEach(({ privateKey }, offset) => {
      const jwk = privateKey.export({ format: 'jwk' });
      const publicKey = Buffer.from(jwk.x!, 'base64url');
      const id = randomUUID();
      const at = (first + offset) * envoyRecordBytes;
      Buffer.from(jwk.d!, 'base64url').copy(records, at);
      publicKey.copy(records, at + seedBytes);
      records.write(id, at + seedBytes + publicKeyBytes, 'ascii');
      ids.push(id);
      publicKeys.push(publicKey);
    });
  }
  writeFileSync(file, records, { mode: 0o600 });
  return { ids, publicKeys };
}

/** Reads envoys [first, first + count) of a keys file written by `seedEnvoys`. */
export function readEnvoySlice(
  file: string,
  first: number,
  count: number,
): { ids: string[]; keys: KeyObject[] } {
  const bytes = Buffer.alloc(count * envoyRecordBytes);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, bytes, 0, bytes.length, first * envoyRecordBytes);
    if (read !== bytes.length) {
      throw new Error(`${file} holds fewer than ${first + count} envoys; seed again with more`);
    }
  } finally {
    closeSync(fd);
  }
  const ids: string[] = [];
  const keys: KeyObject[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * envoyRecordBytes;
    const publicAt = at + seedBytes;
    keys.push(
      privateKeyFromSeed(bytes.subarray(at, publicAt), bytes.subarray(publicAt, publicAt + publicKeyBytes)),
    );
    ids.push(bytes.toString('ascii', publicAt + publicKeyBytes, at + envoyRecordBytes));
  }
  return { ids, keys };
}

/** The data directory's PKI, created if missing as vigosrv's first start would. */
export function openBenchPki(dataDir: string): Promise<Pki> {
  return loadOrCreatePki({
    tlsDir: join(dataDir, 'tls'),
    hostname: machineHostname(),
    extraSans: [],
    log: silentLogger,
  });
}

/** Issues the load generator's shared client certificate from the CA of `pki`. */
export async function issueLoadgenIdentity(pki: Pki, outDir: string): Promise<LoadgenIdentity> {
  const { keyPem, csrPem } = await generateAgentKeyAndCsr(loadgenIdentity);
  const issued = await pki.signEnvoyCsr({ csrPem, envoyId: loadgenIdentity });
  const identity = {
    caFile: pki.caFile,
    clientKeyFile: join(outDir, 'loadgen.key'),
    clientCertFile: join(outDir, 'loadgen.crt'),
    serial: issued.serial,
    fingerprintSha256: issued.fingerprintSha256,
  };
  writeFileSync(identity.clientKeyFile, keyPem, { mode: 0o600 });
  writeFileSync(identity.clientCertFile, issued.certPem);
  return identity;
}

/**
 * Generates `envoys` keys into the keys file (and, with `perEnvoyCerts`, a certificate per envoy) and
 * inserts their rows, bound to their certificates, in one transaction.
 */
export async function seedEnvoys(options: SeedOptions): Promise<SeededEnvoys> {
  if (!Number.isSafeInteger(options.envoys) || options.envoys < 1) {
    throw new Error(`envoys must be a whole number of at least 1, got ${options.envoys}`);
  }
  const envoysFile = join(options.outDir, 'envoys.bin');
  const keysStart = performance.now();
  const { ids, publicKeys } = writeKeysFile(envoysFile, options.envoys);
  const keysMs = performance.now() - keysStart;
  const pki = options.perEnvoyCerts;
  const minted =
    pki === undefined
      ? undefined
      : await mintEnvoyCerts({
          pki,
          caKeyFile: join(dirname(pki.caFile), 'ca.key'),
          ids,
          certsFile: join(options.outDir, 'envoy-certs.bin'),
          keyFile: join(options.outDir, 'envoy-tls.key'),
        });
  const shared: EnvoyCertBinding = {
    serial: options.identity.serial,
    fingerprintSha256: options.identity.fingerprintSha256,
  };

  const insertStart = performance.now();
  const store = openStore({ file: dbFileOf(options.dataDir), log: silentLogger, busyTimeoutMs: 5000 });
  try {
    const insert = store.db.prepare(
      `INSERT INTO envoys (id, hostname, public_key, cert_serial, cert_fingerprint, status, enrolled_at)
       VALUES (?, ?, ?, ?, ?, 'active', ?)`,
    );
    const now = Date.now();
    store.tx(() => {
      ids.forEach((id, i) => {
        const cert = minted?.bindings[i] ?? shared;
        insert.run(id, hostnameOf(i), publicKeys[i], cert.serial, cert.fingerprintSha256, now);
      });
    });
    store.checkpoint();
  } finally {
    store.close();
  }
  return {
    envoys: options.envoys,
    envoysFile,
    keysMs,
    insertMs: performance.now() - insertStart,
    certs: minted && { certsFile: minted.certsFile, keyFile: minted.keyFile, mintMs: minted.mintMs },
  };
}

/**
 * Binds every seeded envoy to the one shared client certificate (vigosrv must not be running): what
 * lets a few shared connections speak for the whole fleet once the per-envoy phases are done.
 */
export function bindAllTo(dataDir: string, identity: LoadgenIdentity): void {
  const store = openStore({ file: dbFileOf(dataDir), log: silentLogger, busyTimeoutMs: 5000 });
  try {
    store.db
      .prepare('UPDATE envoys SET cert_serial = ?, cert_fingerprint = ?')
      .run(identity.serial, identity.fingerprintSha256);
    store.checkpoint();
  } finally {
    store.close();
  }
}

function dbFileOf(dataDir: string): string {
  return join(dataDir, 'db', 'vigo.db');
}

if (process.argv[1] === import.meta.filename) {
  const [dataDir, envoys, flag] = process.argv.slice(2);
  if (dataDir === undefined || envoys === undefined || (flag !== undefined && flag !== '--per-envoy-certs')) {
    process.stderr.write(
      'usage: node --import tsx bench/checkin/seed.ts <data-dir> <envoys> [--per-envoy-certs]\n',
    );
    process.exit(2);
  }
  const pki = await openBenchPki(dataDir);
  const identity = await issueLoadgenIdentity(pki, dataDir);
  const seeded = await seedEnvoys({
    dataDir,
    envoys: Number(envoys),
    outDir: dataDir,
    identity,
    perEnvoyCerts: flag === undefined ? undefined : pki,
  });
  process.stdout.write(`${JSON.stringify({ ...identity, ...seeded })}\n`);
}
