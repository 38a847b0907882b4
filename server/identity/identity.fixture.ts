/** Test fixture: a real SQLite store in a temp dir and an identity service with a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAudit } from '../audit/index.ts';
import type { AuditRecord } from '../audit/index.ts';
import type { Ctx, LogFields, Logger, Role } from '../core/index.ts';
import { createLogger } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import type { IdentityService, IdentityServiceOptions } from './service.ts';
import { createIdentityService } from './service.ts';
import type { UserView } from './users.ts';

export const testPassword = 'correct horse battery staple';

export interface IdentityFixture {
  readonly dir: string;
  readonly store: Store;
  readonly service: IdentityService;
  readonly clock: { nowMs: number };
  /** What `sessionIdleTimeoutMs()` returns; change it to simulate a config reload. */
  readonly idle: { ms: number };
  readonly adminCtx: Ctx;
  /** Log lines at warn and above, parsed. */
  readonly warnings: LogFields[];
  readonly log: Logger;
  audit(action?: string): AuditRecord[];
  count(sql: string, ...params: unknown[]): number;
  /** Every text and blob value in every table, for "this secret is stored nowhere" checks. */
  allStoredText(): string;
  /** Creates a user with `testPassword`. */
  user(username: string, role: Role): Promise<UserView>;
  ctxOf(user: UserView): Ctx;
  cleanup(): void;
}

export function identityFixture(overrides: Partial<IdentityServiceOptions> = {}): IdentityFixture {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-identity-'));
  const warnings: LogFields[] = [];
  const log = createLogger({
    level: 'warn',
    sink: { write: (line) => warnings.push(JSON.parse(line) as LogFields) },
  });
  const store = openStore({ file: join(dir, 'vigo.db'), log, busyTimeoutMs: 5000 });
  warnings.length = 0;
  const clock = { nowMs: 1_700_000_000_000 };
  const idle = { ms: 15 * 60_000 };
  const service = createIdentityService({
    store,
    log,
    nowMs: () => clock.nowMs,
    // The lowest cost bcrypt allows keeps the suite fast; one test checks the production cost.
    bcryptRounds: 4,
    sessionIdleTimeoutMs: () => idle.ms,
    loginFailures: { max: 3, windowMs: 60_000 },
    ...overrides,
  });
  const adminCtx: Ctx = { requestId: 'test', actor: { kind: 'local-admin' }, log };
  const count = (sql: string, ...params: unknown[]): number =>
    (store.db
      .prepare(sql)
      .pluck()
      .get(...params) as number | null) ?? 0;
  const allStoredText = (): string => {
    const tables = store.db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .pluck()
      .all() as string[];
    const parts: string[] = [];
    for (const table of tables) {
      for (const row of store.db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]) {
        for (const value of Object.values(row)) {
          if (typeof value === 'string') parts.push(value);
          if (Buffer.isBuffer(value)) parts.push(value.toString('latin1'));
        }
      }
    }
    return parts.join('\n');
  };
  return {
    dir,
    store,
    service,
    clock,
    idle,
    adminCtx,
    warnings,
    log,
    audit: (action) => listAudit(store.db, { limit: 1000, action }),
    count,
    allStoredText,
    user: (username, role) => service.createUser(adminCtx, { username, role, password: testPassword }),
    ctxOf: (user) => ({
      requestId: 'test',
      actor: { kind: 'user', userId: user.id, username: user.username, role: user.role },
      log,
    }),
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns the VigoError code it rejected or threw with. */
export async function errorCode(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : `non-vigo: ${String(err)}`;
  }
  return 'no error';
}
