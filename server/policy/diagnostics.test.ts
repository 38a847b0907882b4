import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosticSink, didYouMean } from './diagnostics.ts';

describe('didYouMean', () => {
  it('suggests a close candidate, counting a swap of neighbouring letters as one edit', () => {
    assert.equal(didYouMean('ngnix', ['nginx', 'redis']), 'did you mean "nginx"?');
    assert.equal(didYouMean('servce', ['service', 'state', 'enabled']), 'did you mean "service"?');
  });

  it('says nothing when no candidate is close', () => {
    assert.equal(didYouMean('zzz', ['service', 'state']), '');
  });
});

describe('DiagnosticSink', () => {
  const at = { file: 'b.vgo', line: 3, col: 1 };

  it('merges the same finding across entries and says how many share it', () => {
    const sink = new DiagnosticSink();
    for (const id of ['e1', 'e2', 'e3', 'e4', 'e5'])
      sink.addForEntry({ code: 'var.undefined', at, message: 'x is not defined' }, id);
    const [d] = sink.list();
    assert.equal(sink.list().length, 1);
    assert.equal(d!.message, 'x is not defined (for 5 match entries: e1, e2, e3 and 2 more)');
    assert.ok(sink.hasErrors());
  });

  it('sorts by file, line and column', () => {
    const sink = new DiagnosticSink();
    sink.error('a', { file: 'b.vgo', line: 2, col: 5 }, 'm');
    sink.warning('b', { file: 'a.vgo', line: 9, col: 1 }, 'm');
    sink.info('c', { file: 'b.vgo', line: 2, col: 1 }, 'm');
    assert.deepEqual(
      sink.list().map((d) => `${d.file}:${d.line}:${d.col}`),
      ['a.vgo:9:1', 'b.vgo:2:1', 'b.vgo:2:5'],
    );
    assert.ok(sink.hasErrors());
  });

  it('has no errors when only warnings and infos were reported', () => {
    const sink = new DiagnosticSink();
    sink.warning('w', at, 'm');
    assert.equal(sink.hasErrors(), false);
  });
});
