/**
 * A standby promoted while the old primary still runs (a partition that heals): the first contact between
 * them — the new primary's probe or the old one's — shows the old primary the higher epoch; it stops acting
 * as primary at once and restarts fenced, refusing writes and redirecting agents to the new primary.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ServerProcess } from '../helpers/server-process.ts';
import type { Pair } from './pair.ts';
import { adminCall, makePair, readyAs, replicationStatus, spawnPeer } from './pair.ts';

describe('fencing a running primary', () => {
  let pair: Pair | undefined;
  const procs: ServerProcess[] = [];

  after(async () => {
    for (const proc of procs)
      if (proc.exitCode() === undefined) {
        proc.child.kill('SIGKILL');
        await proc.exited();
      }
    pair?.remove();
  });

  it('fences the old primary as soon as it meets the promoted standby', async () => {
    pair = await makePair(200);
    const a = spawnPeer(pair.a);
    procs.push(a);
    const { ca } = await readyAs(a, 'primary');
    const b = spawnPeer(pair.b);
    procs.push(b);
    await readyAs(b, 'standby');
    const promoted = await adminCall(pair.b, ca, 'POST', '/api/v1/server/promote');
    assert.equal(promoted.status, 200, promoted.body);
    await readyAs(b, 'primary', 2);
    await readyAs(a, 'fenced', 2);
    assert.ok(
      a.logs.some(
        (l) =>
          l.msg === 'a peer is primary at a higher epoch: this server is fenced and stops acting as primary',
      ),
    );
    const status = await replicationStatus(pair.a, ca);
    assert.deepEqual([status['role'], status['epoch'], status['primary']], ['fenced', 2, 'b']);
    const write = await adminCall(pair.a, ca, 'POST', '/api/v1/enroll/tokens', { hostnameGlobs: ['z.test'] });
    assert.equal(write.status, 412, write.body);
    assert.equal(a.exitCode(), undefined, 'the fenced server keeps running');
  });
});
