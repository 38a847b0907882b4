import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TailBuffer } from './tail-buffer.ts';

describe('TailBuffer', () => {
  it('keeps everything below its capacity', () => {
    const tail = new TailBuffer(8);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('de'));
    assert.equal(tail.bytes().toString(), 'abcde');
    assert.equal(tail.truncated, false);
  });

  it('keeps the last bytes across wrap-arounds and chunks larger than itself', () => {
    const tail = new TailBuffer(8);
    tail.push(Buffer.from('abcdef'));
    tail.push(Buffer.from('ghij'));
    assert.equal(tail.bytes().toString(), 'cdefghij');
    tail.push(Buffer.from('0123456789XYZ'));
    assert.equal(tail.bytes().toString(), '6789XYZ'.padStart(8, '5'));
    assert.equal(tail.truncated, true);
    assert.equal(tail.totalBytes, 23);
  });

  it('holds its capacity, never more, after 10 MiB', () => {
    const tail = new TailBuffer(1024);
    const chunk = Buffer.alloc(4096, 1);
    for (let i = 0; i < 2560; i += 1) tail.push(chunk);
    assert.equal(tail.bytes().length, 1024);
    assert.equal(tail.totalBytes, 10 * 1024 * 1024);
  });

  it('is exact when the total equals its capacity', () => {
    const tail = new TailBuffer(4);
    tail.push(Buffer.from('wxyz'));
    assert.equal(tail.bytes().toString(), 'wxyz');
    assert.equal(tail.truncated, false);
  });
});
