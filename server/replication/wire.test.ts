import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, encodeFrame, maxBodyBytes } from './wire.ts';

describe('replication frames', () => {
  it('round-trips frames split across chunks at any byte', () => {
    const bytes = Buffer.concat([
      encodeFrame('hello', { name: 'a', epoch: 3 }),
      encodeFrame('pages', { count: 1 }, Buffer.alloc(600, 7)),
    ]);
    for (const cut of [1, 5, 9, 40, bytes.length - 1]) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(
        frames.map((f) => [f.type, f.header, f.body.length]),
        [
          ['hello', { name: 'a', epoch: 3 }, 0],
          ['pages', { count: 1 }, 600],
        ],
      );
    }
  });

  it('refuses a frame longer than the bound before buffering it', () => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(maxBodyBytes * 2, 0);
    assert.throws(() => new FrameDecoder().push(head), /outside/);
    assert.throws(() => encodeFrame('pages', {}, Buffer.alloc(maxBodyBytes + 1)), /too large/);
  });

  it('refuses an unknown type, a header that is not a JSON object and a header longer than its frame', () => {
    const frame = (type: number, header: Buffer, declared = header.length): Buffer => {
      const head = Buffer.alloc(9);
      head.writeUInt32BE(5 + header.length, 0);
      head.writeUInt8(type, 4);
      head.writeUInt32BE(declared, 5);
      return Buffer.concat([head, header]);
    };
    assert.throws(() => new FrameDecoder().push(frame(99, Buffer.from('{}'))), /unknown frame type/);
    assert.throws(() => new FrameDecoder().push(frame(1, Buffer.from('[1]'))), /not an object/);
    assert.throws(() => new FrameDecoder().push(frame(1, Buffer.from('{'))), /not JSON/);
    assert.throws(() => new FrameDecoder().push(frame(1, Buffer.from('{}'), 500)), /header length/);
  });
});
