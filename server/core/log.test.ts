import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './log.ts';
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
