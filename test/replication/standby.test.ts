/**
 * A primary and a standby as real vigosrv processes on loopback: the standby follows (lag measured and
 * bounded), refuses writes naming the primary, catches up after a restart, and refuses a peer whose
 * identity is not pinned; the primary is killed with SIGKILL, the standby promoted (audited), and the old
 * primary restarted is fenced until it re-joins as a standby of the new one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { dialPeer } from '../../server/replication/link.ts';
import { loadOrCreatePeerIdentity } from '../../server/replication/index.ts';
import type { ServerProcess } from '../helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from '../helpers/vigocli.ts';
import { makeTempDir } from '../helpers/server-process.ts';
import type { Pair } from './pair.ts';
import { adminCall, makePair, readyAs, replicationStatus, spawnPeer, waitFor } from './pair.ts';

interface Standby {
  peer: string;
  batches: number;
  lastLagMs?: number;
  maxLagMs: number;
  ackedTakenAtMs?: number;
}

describe('standby peer', () => {
  let pair: Pair;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  let caA = '';
  let caB = '';

  before(async () => {
    pair = await makePair(200);
  });

  after(async () => {
    for (const proc of [a, b]) {
      if (proc !== undefined && proc.exitCode() === undefined) {
        proc.child.kill('SIGKILL');
        await proc.exited();
      }
    }
    pair.remove();
  });

  const vigocli = (peer: Pair['a'], args: string[]) =>
    runVigocli(
      ['--server', `https://127.0.0.1:${peer.apiPort}`, '--data-dir', peer.dataDir, ...args],
      cleanCliEnv(peer.dataDir),
      peer.dataDir,
    );

  const tokenCount = (dataDir: string, file = join(dataDir, 'replication', 'replica.db')): number => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM enrollment_tokens').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  const createToken = async (description: string): Promise<number> => {
    const res = await adminCall(pair.a, caA, 'POST', '/api/v1/enroll/tokens', {
      hostnameGlobs: ['*.test'],
      description,
    });
    assert.equal(res.status, 201, res.body);
    return Date.now();
  };

  it('ships the database and files to a standby with bounded lag', async () => {
    a = spawnPeer(pair.a);
    ({ ca: caA } = await readyAs(a, 'primary'));
    await createToken('before the standby');
    b = spawnPeer(pair.b);
    ({ ca: caB } = await readyAs(b, 'standby'));
    assert.equal(caB, caA, 'the standby serves the fleet CA it received');
    const createdAt = await createToken('while the standby follows');
    const standby = await waitFor('the standby to acknowledge a batch taken after the write', async () => {
      const status = await replicationStatus(pair.a, caA);
      const found = (status['standbys'] as Standby[]).find((s) => s.peer === 'b');
      return found !== undefined && (found.ackedTakenAtMs ?? 0) > createdAt ? found : undefined;
    });
    assert.ok(standby.lastLagMs !== undefined && standby.lastLagMs >= 0);
    process.stdout.write(
      `# standby lag: last ${standby.lastLagMs} ms, max ${standby.maxLagMs} ms over ${standby.batches} batches\n`,
    );
    assert.equal(
      tokenCount(pair.b.dataDir),
      tokenCount(pair.a.dataDir, join(pair.a.dataDir, 'db', 'vigo.db')),
    );
  });

  it('refuses writes on the standby, naming the primary', async () => {
    const res = await adminCall(pair.b, caB, 'POST', '/api/v1/enroll/tokens', { hostnameGlobs: ['x.test'] });
    assert.equal(res.status, 412, res.body);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'replication.not_primary');
    assert.match(res.body, /the primary is a/);
  });

  it('refuses a peer whose certificate is not pinned', async () => {
    const stranger = makeTempDir('vigo-stranger-');
    try {
      const identity = await loadOrCreatePeerIdentity(stranger.path, 'b');
      const target = {
        name: 'a',
        address: { host: '127.0.0.1', port: pair.a.replicationPort },
        agentAddress: '',
        fingerprint: pair.a.fingerprint,
      };
      const refusals = a!.logs.filter((l) => l.msg === 'peer link refused').length;
      const channel = await dialPeer(identity, target, 5_000);
      await channel.send('hello', { name: 'b', epoch: 99, role: 'primary', primary: '', intent: 'probe' });
      await assert.rejects(channel.next(5_000), /closed|ECONNRESET|sent nothing/);
      await a!.waitForLog(
        'the refusal',
        (l) =>
          l.msg === 'peer link refused' &&
          a!.logs.filter((x) => x.msg === 'peer link refused').length > refusals,
      );
      const status = await replicationStatus(pair.a, caA);
      assert.equal(status['role'], 'primary', 'a stranger claiming a higher epoch fences nothing');
      assert.equal(status['epoch'], 1);
    } finally {
      stranger.remove();
    }
  });

  it('catches up after a standby restart', async () => {
    b!.child.kill('SIGTERM');
    assert.equal(await b!.exited(), 0);
    await createToken('while the standby is down');
    const expected = tokenCount(pair.a.dataDir, join(pair.a.dataDir, 'db', 'vigo.db'));
    b = spawnPeer(pair.b);
    await readyAs(b, 'standby');
    await waitFor('the standby to catch up', () => tokenCount(pair.b.dataDir) === expected || undefined);
  });

  it('promotes the standby after the primary is killed, and fences the old primary', async () => {
    const createdAt = await createToken('last acknowledged write');
    await waitFor('the standby to hold the last write', async () => {
      const status = await replicationStatus(pair.a, caA);
      const found = (status['standbys'] as Standby[]).find((s) => s.peer === 'b');
      return found !== undefined && (found.ackedTakenAtMs ?? 0) > createdAt ? true : undefined;
    });
    const expected = tokenCount(pair.a.dataDir, join(pair.a.dataDir, 'db', 'vigo.db'));
    a!.child.kill('SIGKILL');
    await a!.exited();

    const promoted = await vigocli(pair.b, ['--json', 'server', 'promote', '--yes']);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.deepEqual(JSON.parse(promoted.stdout), { role: 'primary', epoch: 2 });
    await readyAs(b!, 'primary', 2);
    const tokens = await adminCall(pair.b, caB, 'GET', '/api/v1/enroll/tokens');
    assert.equal(tokens.status, 200, tokens.body);
    assert.equal((JSON.parse(tokens.body) as { tokens: unknown[] }).tokens.length, expected);
    const audit = await adminCall(pair.b, caB, 'GET', '/api/v1/audit?action=server.promoted');
    assert.equal(audit.status, 200, audit.body);
    assert.match(audit.body, /server\.promoted/);
    assert.match(audit.body, /local-admin/);

    // The old primary comes back with its state still saying primary at epoch 1: it meets epoch 2 and fences.
    a = spawnPeer(pair.a);
    await readyAs(a, 'fenced');
    const write = await adminCall(pair.a, caA, 'POST', '/api/v1/enroll/tokens', {
      hostnameGlobs: ['y.test'],
    });
    assert.equal(write.status, 412, write.body);
    assert.match(write.body, /replication\.not_primary/);
    assert.match(write.body, /the primary is b/);
    const status = await replicationStatus(pair.a, caA);
    assert.equal(status['role'], 'fenced');
    assert.equal(status['epoch'], 2);
  });

  it('re-joins the fenced old primary as a standby of the new one', async () => {
    const refused = await adminCall(pair.b, caB, 'POST', '/api/v1/server/rejoin');
    assert.equal(refused.status, 409, refused.body);
    const rejoined = await adminCall(pair.a, caA, 'POST', '/api/v1/server/rejoin');
    assert.equal(rejoined.status, 200, rejoined.body);
    await readyAs(a!, 'standby', 2);
    const expected = tokenCount(pair.b.dataDir, join(pair.b.dataDir, 'db', 'vigo.db'));
    await waitFor('the old primary to follow the new one', async () => {
      const status = await replicationStatus(pair.b, caB);
      const found = (status['standbys'] as Standby[]).find((s) => s.peer === 'a');
      return found !== undefined && found.batches > 0 && tokenCount(pair.a.dataDir) === expected
        ? true
        : undefined;
    });
  });
});
