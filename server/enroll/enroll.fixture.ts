/** Test fixture: a real SQLite store and PKI in a temp dir, an enroll service with a settable clock. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawFromPublicKey } from '../../protocol/index.ts';
import type { Ctx, Logger } from '../core/index.ts';
import { silentLogger } from '../core/index.ts';
import type { Pki } from '../pki/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../pki/index.ts';
import type { Store } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import type { EnrollInput, EnrolledEnvoy } from './enroll.ts';
import type { EnrollService, EnrollServiceDeps } from './service.ts';
import { createEnrollService } from './service.ts';

export interface EnrollFixture {
  readonly dir: string;
  readonly store: Store;
  readonly pki: Pki;
  readonly service: EnrollService;
  readonly enrolled: EnrolledEnvoy[];
  readonly clock: { nowMs: number };
  readonly adminCtx: Ctx;
  /** Rows in envoys and audit_log and the sum of token uses: what a refused enrollment must not change. */
  counts(): { envoys: number; audit: number; uses: number };
  cleanup(): void;
}

export async function enrollFixture(overrides: Partial<EnrollServiceDeps> = {}): Promise<EnrollFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-enroll-'));
  const log: Logger = silentLogger;
  const store = openStore({ file: join(dir, 'db', 'vigo.db'), log, busyTimeoutMs: 5000 });
  const pki = await loadOrCreatePki({ tlsDir: join(dir, 'tls'), hostname: 'vigo.test', extraSans: [], log });
  const clock = { nowMs: Date.now() };
  const enrolled: EnrolledEnvoy[] = [];
  const service = createEnrollService({
    store,
    pki,
    log,
    grpcAddress: () => 'vigo.test:1530',
    onEnrolled: (envoy) => enrolled.push(envoy),
    nowMs: () => clock.nowMs,
    // The lowest cost bcrypt allows keeps the suite fast; one test checks the production cost.
    bcryptCost: 4,
    ...overrides,
  });
  const count = (sql: string): number => (store.db.prepare(sql).pluck().get() as number | null) ?? 0;
  return {
    dir,
    store,
    pki,
    service,
    enrolled,
    clock,
    adminCtx: { requestId: 'test', actor: { kind: 'local-admin' }, log },
    counts: () => ({
      envoys: count('SELECT count(*) FROM envoys'),
      audit: count('SELECT count(*) FROM audit_log'),
      uses: count('SELECT sum(uses_count) FROM enrollment_tokens'),
    }),
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AgentKeys {
  readonly publicKeyRaw: Buffer;
  readonly publicKey: string;
  readonly csr: string;
}

export async function agentKeys(hostname: string): Promise<AgentKeys> {
  const { publicKey } = generateKeyPairSync('ed25519');
  const publicKeyRaw = rawFromPublicKey(publicKey);
  const { csrPem } = await generateAgentKeyAndCsr(hostname);
  return { publicKeyRaw, publicKey: publicKeyRaw.toString('base64'), csr: csrPem };
}

export async function enrollInput(token: string, hostname: string): Promise<EnrollInput> {
  const keys = await agentKeys(hostname);
  return { token, hostname, publicKey: keys.publicKey, csr: keys.csr };
}

export function enrollRequest(input: EnrollInput, sourceIp = '192.0.2.1') {
  return { sourceIp, log: silentLogger, readInput: async () => input };
}
