/**
 * Seeding tool: inserts N envoys straight into a vigosrv data directory, each with its own ed25519 key,
 * all bound to ONE client certificate issued by the server's CA. The server only checks that the TLS
 * client certificate's fingerprint equals the envoy's recorded one, so a load generator can speak for
 * every envoy over a few shared connections. Private keys go to a file (seed, public key and id per
 * envoy) that the load generators read, so no process regenerates or re-enrolls 100,000 keys.
 *
 *   node --import tsx bench/checkin/seed.ts <data-dir> <envoys>
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { silentLogger } from '../../server/core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../../server/pki/index.ts';
import { openStore } from '../../server/store/index.ts';

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

/**
 * Creates the data directory's PKI if missing (as vigosrv's first start would) and issues the load
 * generator's client certificate from its CA.
 */
export async function issueLoadgenIdentity(dataDir: string, outDir: string): Promise<LoadgenIdentity> {
  const pki = await loadOrCreatePki({
    tlsDir: join(dataDir, 'tls'),
    hostname: machineHostname(),
    extraSans: [],
    log: silentLogger,
  });
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

/** Generates `envoys` keys into the keys file and inserts their rows, bound to `identity`, in one transaction. */
export function seedEnvoys(options: SeedOptions & { identity: LoadgenIdentity }): SeededEnvoys {
  if (!Number.isSafeInteger(options.envoys) || options.envoys < 1) {
    throw new Error(`envoys must be a whole number of at least 1, got ${options.envoys}`);
  }
  const envoysFile = join(options.outDir, 'envoys.bin');
  const keysStart = performance.now();
  const { ids, publicKeys } = writeKeysFile(envoysFile, options.envoys);
  const keysMs = performance.now() - keysStart;

  const insertStart = performance.now();
  const store = openStore({
    file: join(options.dataDir, 'db', 'vigo.db'),
    log: silentLogger,
    busyTimeoutMs: 5000,
  });
  try {
    const insert = store.db.prepare(
      `INSERT INTO envoys (id, hostname, public_key, cert_serial, cert_fingerprint, status, enrolled_at)
       VALUES (?, ?, ?, ?, ?, 'active', ?)`,
    );
    const now = Date.now();
    const { serial, fingerprintSha256 } = options.identity;
    store.tx(() => {
      ids.forEach((id, i) => insert.run(id, hostnameOf(i), publicKeys[i], serial, fingerprintSha256, now));
    });
    store.checkpoint();
  } finally {
    store.close();
  }
  return { envoys: options.envoys, envoysFile, keysMs, insertMs: performance.now() - insertStart };
}

if (process.argv[1] === import.meta.filename) {
  const [dataDir, envoys] = process.argv.slice(2);
  if (dataDir === undefined || envoys === undefined) {
    process.stderr.write('usage: node --import tsx bench/checkin/seed.ts <data-dir> <envoys>\n');
    process.exit(2);
  }
  const identity = await issueLoadgenIdentity(dataDir, dataDir);
  const seeded = seedEnvoys({ dataDir, envoys: Number(envoys), outDir: dataDir, identity });
  process.stdout.write(`${JSON.stringify({ ...identity, ...seeded })}\n`);
}
