import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { dumpSchema, openStore, schemaSnapshotPath } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(root, { recursive: true, force: true }));

function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const line = a.findIndex((text, i) => text !== e[i]);
  const at = line === -1 ? Math.min(a.length, e.length) : line;
  return `line ${at + 1}: migrations give ${JSON.stringify(a[at])}, snapshot has ${JSON.stringify(e[at])}`;
}

describe('schema snapshot', () => {
  it('migrating a fresh database gives exactly the committed migrations/schema.snapshot.sql', () => {
    const store = openStore({ file: join(root, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const actual = dumpSchema(store.db);
      const committed = readFileSync(schemaSnapshotPath(), 'utf8');
      assert.ok(
        actual === committed,
        `the schema differs from ${schemaSnapshotPath()} (${firstDifference(actual, committed)}). ` +
          'If the change is intended, regenerate it with: node --import tsx server/store/write-schema-snapshot.ts',
      );
    } finally {
      store.close();
    }
  });

  it('lists every table, index and trigger the migrations create', () => {
    const store = openStore({ file: join(root, 'list.db'), log: silentLogger, busyTimeoutMs: 1000 });
    try {
      const dump = dumpSchema(store.db);
      for (const table of ['envoys', 'traits', 'enrollment_tokens', 'users', 'api_tokens', 'sessions']) {
        assert.match(dump, new RegExp(`^CREATE TABLE ${table} \\(`, 'm'));
      }
      for (const table of [
        'config_versions',
        'config_snapshots',
        'runs',
        'run_results',
        'audit_log',
        'meta',
      ]) {
        assert.match(dump, new RegExp(`^CREATE TABLE ${table} \\(`, 'm'));
      }
      assert.match(dump, /^CREATE TABLE schema_migrations \(/m);
      assert.match(
        dump,
        /^CREATE UNIQUE INDEX envoys_active_hostname ON envoys \(hostname\) WHERE status = 'active';$/m,
      );
      assert.match(dump, /^CREATE INDEX runs_envoy_started ON runs \(envoy_id, started_at DESC\);$/m);
      assert.match(dump, /^CREATE TRIGGER audit_log_no_update /m);
      assert.doesNotMatch(dump, /sqlite_autoindex|sqlite_sequence/);
    } finally {
      store.close();
    }
  });
});
