/** Test support: a temp store with one enrolled envoy and its signing key, built from the real modules. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawFromPublicKey } from '../../protocol/index.ts';
import { silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';

export interface EnrolledFixture {
  store: Store;
  envoyId: string;
  privateKey: KeyObject;
  certFingerprintHex: string;
  cleanup(): void;
}

export function storeWithEnvoy(): EnrolledFixture {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-checkin-'));
  const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const envoyId = randomUUID();
  const certFingerprintHex = 'ab'.repeat(32);
  store.db
    .prepare(
      `INSERT INTO envoys (id, hostname, public_key, cert_fingerprint, status, enrolled_at)
       VALUES (?, 'web-1.example.com', ?, ?, 'active', ?)`,
    )
    .run(envoyId, rawFromPublicKey(publicKey), certFingerprintHex, Date.now());
  return {
    store,
    envoyId,
    privateKey,
    certFingerprintHex,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
