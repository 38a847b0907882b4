/**
 * The replication link's framing: `u32 length | u8 type | u32 header length | JSON header | binary body`.
 * Every frame is bounded (maxFrameBytes, maxHeaderBytes) and parsed before anything acts on it; a frame
 * that breaks a bound, or a link silent for longer than its timeout, ends the link with a protocol error.
 */
import type { Socket } from 'node:net';
import { VigoError } from '../core/index.ts';

export const frameTypes = {
  hello: 1,
  hashes: 2,
  batch: 3,
  pages: 4,
  file: 5,
  commit: 6,
  ack: 7,
  error: 8,
} as const;
export type FrameType = keyof typeof frameTypes;
const typeNames = new Map<number, FrameType>(
  Object.entries(frameTypes).map(([name, code]) => [code, name as FrameType]),
);

/** A page-set or file frame carries at most this much; pages and files are split across frames. */
export const maxBodyBytes = 8 * 1024 * 1024;
export const maxHeaderBytes = 64 * 1024;
const maxFrameBytes = 1 + 4 + maxHeaderBytes + maxBodyBytes;

export interface Frame {
  readonly type: FrameType;
  readonly header: Record<string, unknown>;
  readonly body: Buffer;
}

export function protocolError(message: string): VigoError {
  return new VigoError('replication.protocol', message);
}

export function encodeFrame(type: FrameType, header: object, body: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > maxHeaderBytes)
    throw protocolError(`${type} header of ${json.length} bytes is too large`);
  if (body.length > maxBodyBytes) throw protocolError(`${type} body of ${body.length} bytes is too large`);
  const head = Buffer.alloc(9);
  head.writeUInt32BE(1 + 4 + json.length + body.length, 0);
  head.writeUInt8(frameTypes[type], 4);
  head.writeUInt32BE(json.length, 5);
  return Buffer.concat([head, json, body]);
}

/** Splits a byte stream into frames, refusing any that breaks a bound. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) return frames;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [all];
      const length = all.readUInt32BE(0);
      if (length < 5 || length > maxFrameBytes)
        throw protocolError(`a frame of ${length} bytes is outside 5..${maxFrameBytes}`);
      if (all.length < 4 + length) return frames;
      frames.push(decodeFrame(all.subarray(4, 4 + length)));
      const rest = all.subarray(4 + length);
      this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
      this.buffered = rest.length;
    }
  }
}

function decodeFrame(bytes: Buffer): Frame {
  const type = typeNames.get(bytes.readUInt8(0));
  if (type === undefined) throw protocolError(`unknown frame type ${bytes.readUInt8(0)}`);
  const headerLength = bytes.readUInt32BE(1);
  if (headerLength > maxHeaderBytes || 5 + headerLength > bytes.length)
    throw protocolError(`${type} frame has a header length of ${headerLength} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(5, 5 + headerLength).toString('utf8'));
  } catch {
    throw protocolError(`${type} frame header is not JSON`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw protocolError(`${type} frame header is not an object`);
  return { type, header: header as Record<string, unknown>, body: bytes.subarray(5 + headerLength) };
}

/** One side of a link: ordered frames in, frames out with backpressure, every wait bounded. */
export class FrameChannel {
  private readonly decoder = new FrameDecoder();
  private readonly queue: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.decoder.push(chunk)) this.deliver(frame);
      } catch (err) {
        this.fail(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the peer closed the link')));
  }

  private deliver(frame: Frame): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve(frame);
    } else this.queue.push(frame);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  async send(type: FrameType, header: object, body?: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (!this.socket.write(encodeFrame(type, header, body)))
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.socket.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          this.socket.off('drain', onDrain);
          reject(this.failure ?? new Error('the peer closed the link'));
        };
        this.socket.once('drain', onDrain);
        this.socket.once('close', onClose);
      });
  }

  /** The next frame; an error frame from the peer is thrown as the error it names. */
  async next(timeoutMs: number, expected?: readonly FrameType[]): Promise<Frame> {
    const frame = await this.nextRaw(timeoutMs);
    if (frame.type === 'error' && !(expected ?? []).includes('error')) {
      const code = frame.header['code'];
      throw new VigoError(
        code === 'replication.fenced' || code === 'replication.not_primary' ? code : 'replication.protocol',
        `the peer refused: ${typeof frame.header['message'] === 'string' ? frame.header['message'].slice(0, 500) : 'no reason given'}`,
        frame.header,
      );
    }
    if (expected !== undefined && !expected.includes(frame.type))
      throw protocolError(`expected ${expected.join(' or ')}, got ${frame.type}`);
    return frame;
  }

  private nextRaw(timeoutMs: number): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(protocolError(`the peer sent nothing for ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Field readers for frame headers: a missing or mistyped field is a protocol error. */
export function intField(
  header: Record<string, unknown>,
  key: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = header[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max)
    throw protocolError(`header field ${key} must be an integer in 0..${max}`);
  return value;
}

export function textField(header: Record<string, unknown>, key: string, maxLength = 512): string {
  const value = header[key];
  if (typeof value !== 'string' || value.length > maxLength)
    throw protocolError(`header field ${key} must be text of at most ${maxLength} characters`);
  return value;
}
