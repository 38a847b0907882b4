/**
 * The backup archive's container: POSIX ustar, regular files only, a PAX `path` record for names longer
 * than the 100 bytes a header holds. The reader is strict because restore reads archives from anywhere:
 * every header's checksum is checked, a member that is not a regular file (link, device, directory entry
 * with content) or whose name is absolute, holds `..` or a NUL is refused, and sizes are bounded before a
 * byte of the member is read.
 */
import { VigoError } from '../core/index.ts';

export const blockBytes = 512;
const pathRecordMaxBytes = 4096;

export interface TarLimits {
  readonly maxMembers: number;
  readonly maxMemberBytes: number;
  readonly maxTotalBytes: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The largest size the 11 octal digits of a ustar header hold; larger ones are written base-256 (GNU, bsdtar). */
const maxOctalSize = 8 ** 11 - 1;

function writeSize(block: Buffer, size: number): void {
  if (size <= maxOctalSize) {
    block.write(octal(size, 12), 124, 12, 'ascii');
    return;
  }
  block[124] = 0x80;
  block.writeBigUInt64BE(BigInt(size), 128);
}

function readSize(block: Buffer): number | undefined {
  if (((block[124] as number) & 0x80) === 0) return parseOctal(block, 124, 12);
  if (block[124] !== 0x80 || block.readUInt32BE(124) !== 0x80000000) return undefined;
  const size = block.readBigUInt64BE(128);
  return size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : undefined;
}

function header(name: string, size: number, typeflag: string, mtimeSeconds: number): Buffer {
  const block = Buffer.alloc(blockBytes);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o600, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  writeSize(block, size);
  block.write(octal(mtimeSeconds, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(typeflag, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

export function padding(size: number): Buffer {
  const rest = size % blockBytes;
  return Buffer.alloc(rest === 0 ? 0 : blockBytes - rest);
}

/** The header block(s) of a regular file `name` of `size` bytes (a PAX record first for a long name). */
export function fileHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  if (Buffer.byteLength(name) < 100) return header(name, size, '0', mtimeSeconds);
  const body = paxRecord('path', name);
  return Buffer.concat([
    header('PaxHeader', body.length, 'x', mtimeSeconds),
    body,
    padding(body.length),
    header(name.slice(-99).replace(/^[^/]*\//, ''), size, '0', mtimeSeconds),
  ]);
}

function paxRecord(key: string, value: string): Buffer {
  const textBytes = Buffer.byteLength(` ${key}=${value}\n`);
  let length = textBytes + 1;
  while (String(length).length + textBytes !== length) length = String(length).length + textBytes;
  return Buffer.from(`${length} ${key}=${value}\n`);
}

/** Two zero blocks end the archive. */
export const endOfArchive = Buffer.alloc(blockBytes * 2);

/** A member name the archive may hold: relative, no `.`/`..` segment, no empty segment, no NUL or backslash. */
export function isSafeMemberName(name: string): boolean {
  if (name === '' || name.length > 1024 || name.startsWith('/') || /[\0\\]/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseOctal(block: Buffer, offset: number, width: number): number | undefined {
  const text = block
    .subarray(offset, offset + width)
    .toString('ascii')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (!/^[0-7]{1,12}$/.test(text)) return undefined;
  const value = parseInt(text, 8);
  return Number.isSafeInteger(value) ? value : undefined;
}

function cString(block: Buffer, offset: number, width: number): string {
  const raw = block.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? width : end).toString('utf8');
}

function invalid(message: string): VigoError {
  return new VigoError('backup.archive_invalid', `not a complete backup archive: ${message}`);
}

/** Reads exact byte counts from a chunked stream. */
export class ByteReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.bufferedBytes < n) {
      const next = await this.source.next();
      if (next.done === true) break;
      this.buffered.push(next.value);
      this.bufferedBytes += next.value.length;
    }
    const all = Buffer.concat(this.buffered);
    const taken = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(taken.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return taken;
  }

  /** Whether the stream ends here (nothing buffered and nothing more to come). */
  async atEnd(): Promise<boolean> {
    if (this.bufferedBytes > 0) return false;
    const next = await this.source.next();
    if (next.done === true) return true;
    this.buffered.push(next.value);
    this.bufferedBytes += next.value.length;
    return false;
  }
}

export interface MemberHeader {
  readonly name: string;
  readonly size: number;
}

/**
 * Reads the next member's header(s): the member, or undefined at the end-of-archive blocks. Refuses a
 * truncated archive, a bad checksum, a member that is not a regular file, an unsafe name, and a size past
 * the limits (`totalSoFar` is what earlier members took).
 */
export async function readMemberHeader(
  reader: ByteReader,
  limits: TarLimits,
  totalSoFar: number,
): Promise<MemberHeader | undefined> {
  let longName: string | undefined;
  for (;;) {
    const block = await reader.read(blockBytes);
    if (block.length < blockBytes) throw invalid('it ends in the middle of a header (truncated)');
    if (block.every((byte) => byte === 0)) {
      if (longName !== undefined) throw invalid('an extended header is not followed by its member');
      const second = await reader.read(blockBytes);
      if (second.length < blockBytes || !second.every((byte) => byte === 0))
        throw invalid('the end-of-archive marker is incomplete (truncated)');
      return undefined;
    }
    const recorded = parseOctal(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < blockBytes; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
    if (recorded !== sum) throw invalid('a header checksum does not match (corrupted)');
    if (block.toString('ascii', 257, 262) !== 'ustar') throw invalid('a header is not a ustar header');
    const size = readSize(block);
    if (size === undefined) throw invalid('a header has no valid size');
    const type = block.toString('ascii', 156, 157);
    if (type === 'x') {
      if (longName !== undefined || size > pathRecordMaxBytes)
        throw invalid('an extended header is malformed');
      const body = await reader.read(size + padding(size).length);
      if (body.length < size + padding(size).length) throw invalid('it ends inside an extended header');
      longName = parsePathRecord(body.subarray(0, size));
      continue;
    }
    const prefix = cString(block, 345, 155);
    const shortName = cString(block, 0, 100);
    const name = longName ?? (prefix === '' ? shortName : `${prefix}/${shortName}`);
    if (type !== '0' && type !== '\0') {
      throw new VigoError(
        'backup.member_unsafe',
        `the archive member ${JSON.stringify(name)} is not a regular file (type ${JSON.stringify(type)}): links and special files are refused`,
      );
    }
    if (!isSafeMemberName(name)) {
      throw new VigoError(
        'backup.member_unsafe',
        `the archive member ${JSON.stringify(name)} names a path outside the archive (absolute, ".." or empty segments)`,
      );
    }
    if (size > limits.maxMemberBytes || totalSoFar + size > limits.maxTotalBytes) {
      throw new VigoError(
        'backup.too_large',
        `the archive member ${JSON.stringify(name)} (${size} bytes) is over the bound of ${limits.maxMemberBytes} bytes a member or ${limits.maxTotalBytes} bytes in all`,
      );
    }
    return { name, size };
  }
}

function parsePathRecord(body: Buffer): string {
  let path: string | undefined;
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = Number(body.toString('ascii', at, space));
    if (space < 0 || !Number.isSafeInteger(length) || length <= space - at || at + length > body.length)
      throw invalid('a PAX record is malformed');
    const record = body.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq < 0) throw invalid('a PAX record is malformed');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += length;
  }
  if (path === undefined) throw invalid('an extended header names no path');
  return path;
}
