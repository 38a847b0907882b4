import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTraceparent, parseTraceparent, traceDetails, traceIdOf } from './traceparent.ts';

const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  it('accepts a version-00 traceparent as it is', () => {
    assert.equal(parseTraceparent(valid), valid);
    assert.equal(traceIdOf(valid), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.deepEqual(traceDetails(valid), {
      traceparent: valid,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('refuses every malformed form', () => {
    for (const bad of [
      '',
      valid.toUpperCase(),
      ` ${valid}`,
      `${valid} `,
      `${valid}-extra`,
      valid.replace(/^00/, '01'),
      valid.replace(/^00/, 'ff'),
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
      '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01',
    ]) {
      assert.equal(parseTraceparent(bad), undefined, bad);
      assert.equal(traceIdOf(bad), '');
      assert.deepEqual(traceDetails(bad), {});
    }
    assert.equal(parseTraceparent(undefined), undefined);
  });

  it('makes fresh traceparents that parse and differ', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    assert.equal(parseTraceparent(a), a);
    assert.equal(parseTraceparent(b), b);
    assert.notEqual(traceIdOf(a), traceIdOf(b));
  });
});
