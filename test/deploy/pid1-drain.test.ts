/**
 * vigosrv as PID 1 of its own PID namespace (`unshare --pid --fork --mount-proc`), as in a container run
 * without an init: the kernel delivers SIGTERM to a namespace's PID 1 only because vigosrv handles it, so
 * this checks the drain really runs there. The process exits 0 after its drain log lines, the database
 * passes SQLite's integrity check with the drain's last audit entry (server.stop) in it, and a new server
 * starts on the same data directory. Needs CAP_SYS_ADMIN (root) and unshare (util-linux).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { waitFor } from '../helpers/deadline.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, startServer } from '../helpers/server-process.ts';
import { hasCapSysAdmin, toolsSkipReason } from './tools.ts';

// A new PID namespace needs CAP_SYS_ADMIN: root on a host has it, root in a default container does not.
const skip =
  toolsSkipReason({ unshare: 'util-linux' }) ??
  (hasCapSysAdmin() || process.env['VIGO_REQUIRE_DEPLOY_TOOLS'] === '1'
    ? undefined
    : 'needs CAP_SYS_ADMIN (root)');
const data = makeTempDir('vigo-pid1-');
const servers: ReadyServer[] = [];

after(async () => {
  for (const server of servers) if (server.exitCode() === undefined) await server.stop();
  data.remove();
});

/** The PID (in this namespace) of the only child of `pid`. */
function onlyChild(pid: number): number | undefined {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  if (children === '' || children.includes(' ')) return undefined;
  return Number(children);
}

/** The PIDs of `pid` from its own namespace outwards to ours: NSpid in /proc/PID/status, innermost last. */
function namespacePids(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('NSpid:'));
  assert.ok(line, `no NSpid line for ${pid}`);
  return line.slice('NSpid:'.length).trim().split(/\s+/).map(Number);
}

describe('vigosrv as PID 1 in a PID namespace', { skip }, () => {
  it('drains on SIGTERM, exits 0 and leaves its data intact', async () => {
    const server = await startServer({
      dataDir: data.path,
      wrapper: ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'],
    });
    servers.push(server);
    const unsharePid = server.child.pid;
    assert.ok(unsharePid !== undefined);
    const vigosrvPid = await waitFor('the process unshare forked', () => onlyChild(unsharePid));
    assert.deepEqual(namespacePids(vigosrvPid), [vigosrvPid, 1], 'vigosrv is PID 1 of its namespace');
    assert.equal((await server.request('/readyz')).status, 200);
    const bootId = server.logs.find((line) => line.msg === 'ready')?.['bootId'];
    assert.equal(typeof bootId, 'string');

    process.kill(vigosrvPid, 'SIGTERM');
    assert.equal(await server.exited(), 0, server.stderr());
    const draining = server.logs.find((line) => line.msg === 'draining');
    assert.equal(draining?.['reason'], 'SIGTERM');
    const stopped = server.logs.findIndex((line) => line.msg === 'stopped');
    assert.ok(stopped > server.logs.indexOf(draining), 'stopped comes after draining');

    const db = new Database(join(data.path, 'db', 'vigo.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const last = db.prepare('SELECT action, details FROM audit_log ORDER BY seq DESC LIMIT 1').get() as {
        action: string;
        details: string;
      };
      assert.equal(last.action, 'server.stop');
      assert.equal((JSON.parse(last.details) as { bootId?: string }).bootId, bootId);
    } finally {
      db.close();
    }

    // The lock was released and nothing is left half-written: the same data directory starts again.
    const again = await startServer({ dataDir: data.path });
    servers.push(again);
    assert.equal((await again.request('/readyz')).status, 200);
    assert.equal(await again.stop(), 0);
  });
});
