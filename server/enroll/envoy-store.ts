/**
 * The envoy rows enrollment creates or re-keys. Check-in state (last seen, replay watermark…) belongs
 * to the fleet module; enrollment only decides who an envoy is and which keys it holds.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../store/index.ts';

export interface ActiveEnvoy {
  readonly id: string;
  readonly publicKey: Buffer;
}

export interface EnvoyKeys {
  readonly id: string;
  readonly hostname: string;
  readonly publicKeyRaw: Buffer;
  readonly certSerial: string;
  readonly certFingerprint: string;
  readonly enrolledAtMs: number;
}

type Statement<P extends unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

interface EnvoyStatements {
  activeByHostname: Statement<[string], { id: string; public_key: Buffer }>;
  insert: Statement<[string, string, Buffer, string, string, number]>;
  rekey: Statement<[Buffer, string, string, number, string, string]>;
}

const statementsByDb = new WeakMap<Db, EnvoyStatements>();

function statements(db: Db): EnvoyStatements {
  let found = statementsByDb.get(db);
  if (!found) {
    found = {
      activeByHostname: db.prepare<[string], { id: string; public_key: Buffer }>(
        "SELECT id, public_key FROM envoys WHERE hostname = ? AND status = 'active'",
      ),
      insert: db.prepare(
        'INSERT INTO envoys (id, hostname, public_key, cert_serial, cert_fingerprint, enrolled_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // The replay watermark restarts with the new key: requests signed by the old key no longer
      // verify, and a reinstalled agent's clock owes nothing to the old one's timestamps.
      rekey: db.prepare(
        'UPDATE envoys SET public_key = ?, cert_serial = ?, cert_fingerprint = ?, enrolled_at = ?, last_ts_ms = 0 ' +
          "WHERE id = ? AND hostname = ? AND status = 'active'",
      ),
    };
    statementsByDb.set(db, found);
  }
  return found;
}

export function findActiveEnvoy(db: Db, hostname: string): ActiveEnvoy | undefined {
  const row = statements(db).activeByHostname.get(hostname);
  return row === undefined ? undefined : { id: row.id, publicKey: row.public_key };
}

export function insertEnvoy(db: Db, envoy: EnvoyKeys): void {
  statements(db).insert.run(
    envoy.id,
    envoy.hostname,
    envoy.publicKeyRaw,
    envoy.certSerial,
    envoy.certFingerprint,
    envoy.enrolledAtMs,
  );
}

/** Replaces an active envoy's keys; false when it is no longer active under that hostname. */
export function rekeyEnvoy(db: Db, envoy: EnvoyKeys): boolean {
  const result = statements(db).rekey.run(
    envoy.publicKeyRaw,
    envoy.certSerial,
    envoy.certFingerprint,
    envoy.enrolledAtMs,
    envoy.id,
    envoy.hostname,
  );
  return result.changes === 1;
}
