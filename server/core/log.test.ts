import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger, droppedLogLines, streamSink } from './log.ts';
import type { LogLevelRef } from './log.ts';

function capture(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON object a line with bound fields and serialized errors', () => {
    const sink = capture();
    const log = createLogger({ level: 'info', sink }).child({ requestId: 'r1' });
    log.debug('hidden');
    log.error('boom', { err: new Error('bad thing') });
    assert.equal(sink.lines.length, 1);
    const [line] = sink.lines;
    assert.equal(line?.['msg'], 'boom');
    assert.equal(line?.['requestId'], 'r1');
    assert.equal((line?.['err'] as { message: string }).message, 'bad thing');
  });

  it('shares a level ref with its children so a reload applies everywhere', () => {
    const sink = capture();
    const level: LogLevelRef = { value: 'warn' };
    const child = createLogger({ level, sink }).child({ component: 'x' });
    child.info('dropped');
    level.value = 'debug';
    child.debug('kept');
    assert.deepEqual(
      sink.lines.map((l) => l['msg']),
      ['kept'],
    );
  });
});

describe('a log line that cannot be written or encoded', () => {
  it('is dropped and counted, never thrown and never an unhandled stream error', async () => {
    const failing = new Writable({
      write: (_chunk, _encoding, callback) =>
        callback(Object.assign(new Error('no space'), { code: 'ENOSPC' })),
    });
    const before = droppedLogLines();
    const log = createLogger({ level: 'info', sink: streamSink(failing) });
    log.info('first');
    log.warn('second', { big: 10n });
    // Let the stream report its failures: without the guard the 'error' event would end this process.
    await new Promise((resolve) => setImmediate(resolve));
    log.error('after the stream broke');
    assert.equal(droppedLogLines() - before, 3);
  });

  it('drops a line whose fields JSON cannot encode, and keeps logging', () => {
    const sink = capture();
    const before = droppedLogLines();
    const log = createLogger({ level: 'info', sink });
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    log.info('bigint', { n: 1n });
    log.info('cycle', { cycle });
    log.info('fine');
    assert.equal(droppedLogLines() - before, 2);
    assert.deepEqual(
      sink.lines.map((l) => l['msg']),
      ['fine'],
    );
  });
});
