/** /metrics carries the process's own health besides vigosrv's: CPU, memory, GC and event-loop stalls. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-metrics-');
let server: ReadyServer | undefined;
after(async () => {
  await server?.stop();
  temp.remove();
});

describe('process metrics', () => {
  it('reports CPU, resident memory, heap, GC and the longest event-loop stall', async () => {
    server = await startServer({ dataDir: temp.path });
    const admin = `Bearer ${readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim()}`;
    const reply = await server.request('/metrics', { headers: { authorization: admin } });
    assert.equal(reply.status, 200);
    const value = (name: string): number => {
      const line = reply.body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      assert.ok(line, `${name} is exported`);
      return Number(line.split(' ').at(-1));
    };
    assert.ok(value('process_cpu_seconds_total') > 0);
    assert.ok(value('process_resident_memory_bytes') > 0);
    assert.ok(value('nodejs_heap_size_used_bytes') > 0);
    assert.ok(value('nodejs_eventloop_lag_max_seconds') >= 0);
    assert.match(reply.body, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });
});
