/**
 * Loaded into vigosrv (through NODE_OPTIONS --import) when the held-connections benchmark starts it with
 * an IPC channel: answers requests for the process's memory after full garbage collections, and for heap
 * snapshots. Without an IPC channel (any other process that inherits NODE_OPTIONS) it does nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FromProbe, ServerMemory, ToProbe } from './protocol.ts';

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function vmRssBytes(): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

async function settledMemory(gc: () => void): Promise<ServerMemory> {
  // Native memory behind collected objects is freed in callbacks after the collection; two rounds with a
  // pause let those run and collect what they released.
  for (let round = 0; round < 3; round++) {
    gc();
    await sleep(200);
  }
  const usage = process.memoryUsage();
  return {
    rssBytes: vmRssBytes(),
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
    openFds: readdirSync('/proc/self/fd').length,
  };
}

const channel = process.channel;
if (process.send !== undefined && channel !== undefined) {
  const gc = exposeGc();
  const reply = (message: FromProbe): void => void process.send?.(message);
  process.on('message', (message: ToProbe) => {
    if (message.type === 'measure') {
      void settledMemory(gc).then((memory) => reply({ type: 'memory', memory }));
    } else if (message.type === 'snapshot') {
      reply({ type: 'snapshot', file: writeHeapSnapshot(message.file) });
    }
  });
  // The channel must not keep vigosrv running once it has drained.
  channel.unref();
}
