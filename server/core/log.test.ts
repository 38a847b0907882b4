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

describe('the text format', () => {
  const textLines = (): { lines: string[]; write(line: string): void } => {
    const lines: string[] = [];
    return { lines, write: (line) => lines.push(line) };
  };

  it('writes one human line a record: time, level, message, then key=value for every field', () => {
    const sink = textLines();
    const log = createLogger({ level: 'info', sink, format: 'text' }).child({ component: 'vigosrv' });
    log.debug('hidden');
    log.info('ready', { grpcPort: 1530, dataDir: '/srv/vigo', tls: true, absent: undefined, none: null });
    assert.equal(sink.lines.length, 1);
    assert.match(
      sink.lines[0] ?? '',
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}ready component=vigosrv grpcPort=1530 dataDir=\/srv\/vigo tls=true none=null\n$/,
    );
  });

  it('quotes values that would be ambiguous and escapes what would break the line', () => {
    const sink = textLines();
    const log = createLogger({ level: 'debug', sink, format: 'text' });
    log.warn('two\nlines\u001b[31m', {
      host: 'a b',
      injected: 'x\n2026-01-01T00:00:00.000Z ERROR forged',
      eq: 'k=v',
      empty: '',
      list: [1, 'two'],
      'odd key': 1,
      err: new Error('bad\nthing'),
    });
    const [line = ''] = sink.lines;
    assert.equal(line.split('\n').length, 2, 'one line, ended by one newline');
    assert.match(line, / WARN {2}two\\nlines\\u001b\[31m /);
    assert.match(line, / host="a b" /);
    assert.match(line, / injected="x\\n2026-01-01T00:00:00\.000Z ERROR forged" /);
    assert.match(
      line,
      / eq="k=v" empty="" list=\[1,"two"\] "odd key"=1 err=\{"name":"Error","message":"bad\\nthing"/,
    );
  });

  it('children keep the format', () => {
    const sink = textLines();
    createLogger({ level: 'info', sink, format: 'text' }).child({ requestId: 'r1' }).info('hi');
    assert.match(sink.lines[0] ?? '', / INFO {2}hi requestId=r1\n$/);
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
