/**
 * The read-only probes of named queries (protocol/query-probes.ts), implemented in code: each reads files
 * under /proc, the dpkg database or the path it was given, and never starts a shell or another process.
 * The arguments come from the agent's own signed bundle and are checked again before a probe runs.
 * Reads are bounded: a file is hashed as a stream, the dpkg database and /proc tables are read up to a
 * size limit, and the caller stops waiting after its time budget.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { queryArgsProblem } from '../../protocol/index.ts';
import type { QueryProbeName } from '../../protocol/index.ts';

export interface ProbeRoots {
  /** The dpkg status file (default /var/lib/dpkg/status). */
  readonly dpkgStatus?: string;
  /** Where /proc is (default /proc). */
  readonly proc?: string;
}

/** The dpkg database and a /proc table are read up to this many bytes. */
export const probeReadMaxBytes = 64 * 1024 * 1024;
/** Processes looked at by process_running, at most. */
const maxProcesses = 100_000;

async function readBounded(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.alloc(1024 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > probeReadMaxBytes) throw new Error(`${file} is larger than ${probeReadMaxBytes} bytes`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function fileSha256(file: string): Promise<string | null> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return null;
    throw err;
  }
  if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  return hash.digest('hex');
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/** The Version of an installed package in a dpkg status file, or null. */
export function dpkgVersion(status: string, name: string): string | null {
  for (const stanza of status.split(/\n\n+/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith(' ')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    if (fields.get('Package') !== name) continue;
    const state = fields.get('Status')?.split(/\s+/) ?? [];
    if (state[2] !== 'installed') continue;
    return fields.get('Version') ?? null;
  }
  return null;
}

async function packageVersion(name: string, roots: ProbeRoots): Promise<string | null> {
  const file = roots.dpkgStatus ?? '/var/lib/dpkg/status';
  let status: string;
  try {
    status = await readBounded(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`this host has no dpkg database (${file}); package_version reads Debian packages`);
    throw err;
  }
  return dpkgVersion(status, name);
}

/** Processes whose program name (comm, or the base name of argv[0]) is `name`. */
async function processRunning(name: string, roots: ProbeRoots): Promise<number> {
  const proc = roots.proc ?? '/proc';
  const pids = (await fs.readdir(proc)).filter((entry) => /^\d+$/.test(entry)).slice(0, maxProcesses);
  let count = 0;
  for (const pid of pids) {
    try {
      const comm = (await fs.readFile(path.join(proc, pid, 'comm'), 'utf8')).trim();
      const argv0 = (await fs.readFile(path.join(proc, pid, 'cmdline'), 'utf8')).split('\0')[0] ?? '';
      if (comm === name || (argv0 !== '' && path.basename(argv0) === name)) count += 1;
    } catch {
      // The process ended while it was looked at.
    }
  }
  return count;
}

/** Ports in LISTEN state in a /proc/net/tcp or tcp6 table. */
export function listeningIn(table: string): number[] {
  const ports: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    const local = columns[1];
    if (local === undefined || columns[3] !== '0A') continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port)) ports.push(port);
  }
  return ports;
}

async function listeningPorts(roots: ProbeRoots): Promise<number[]> {
  const proc = roots.proc ?? '/proc';
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await readBounded(path.join(proc, 'net', table));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const port of listeningIn(text)) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Runs `probe` with `args` (checked again here) and returns its JSON value. */
export async function runProbe(
  probe: QueryProbeName,
  args: Readonly<Record<string, string>>,
  roots: ProbeRoots = {},
): Promise<unknown> {
  const problem = queryArgsProblem(probe, args);
  if (problem !== undefined) throw new Error(problem);
  switch (probe) {
    case 'file_sha256':
      return fileSha256(args['path']!);
    case 'file_exists':
      return fileExists(args['path']!);
    case 'package_version':
      return packageVersion(args['name']!, roots);
    case 'process_running':
      return processRunning(args['name']!, roots);
    case 'listening_ports':
      return listeningPorts(roots);
  }
}
