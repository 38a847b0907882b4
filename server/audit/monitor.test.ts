/**
 * The audit monitor inspects the chain head on its own timer: a break is raised and the gauges change
 * without any scrape or append, and a scrape reports the last inspection without reading the database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { runMigrations } from '../store/index.ts';
import { appendAudit, createAuditMonitor } from './index.ts';
import type { AuditChainBreak } from './index.ts';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function gauge(registry: Registry, name: string): Promise<number> {
  const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(await registry.metrics());
  assert.ok(found, `${name} is exported`);
  return Number(found[1]);
}

describe('audit monitor', () => {
  it('finds the chain length and a break on its periodic inspection; a scrape only reports them', async () => {
    const db = new Database(':memory:');
    runMigrations(db, { log: silentLogger });
    for (const action of ['user.created', 'user.updated', 'token.created'])
      db.transaction(() => appendAudit(db, { actor: 'user:a', action, target: 't' }))();
    // Without the constraints and triggers that would stop the tampering (an attacker with the file can do the same).
    db.exec(
      'CREATE TABLE loose AS SELECT * FROM audit_log; DROP TABLE audit_log; ALTER TABLE loose RENAME TO audit_log;',
    );
    const registry = new Registry();
    const breaks: AuditChainBreak[] = [];
    const monitor = createAuditMonitor({
      db,
      log: silentLogger,
      registry,
      handlers: { onBroken: (damage) => breaks.push(damage), onReanchored: () => undefined },
      checkIntervalMs: 20,
    });
    try {
      // No timer can fire while a scrape is formatted: this reads what the monitor knew before looking.
      assert.equal(
        await gauge(registry, 'vigo_audit_chain_length'),
        0,
        'the scrape did not inspect the chain',
      );
      await until('the periodic inspection to count the chain', async () => {
        return (await gauge(registry, 'vigo_audit_chain_length')) === 3;
      });
      assert.equal(await gauge(registry, 'vigo_audit_chain_broken'), 0);

      db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
      await until('the periodic inspection to find the break', async () => breaks.length > 0);
      assert.equal(breaks.length, 1, 'raised once per break');
      assert.ok(monitor.broken !== undefined);
      assert.equal(await gauge(registry, 'vigo_audit_chain_broken'), 1);
      assert.equal(await gauge(registry, 'vigo_audit_chain_length'), 2, 'the entries still stored');
    } finally {
      monitor.close();
      db.close();
    }
  });
});
