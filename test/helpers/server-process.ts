/**
 * Runs the real bin/vigosrv as a child process on ephemeral loopback ports with its own temp data dir,
 * and reads its structured logs to learn the bound ports.
 */
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './deadline.ts';
import { httpsRequest } from './https-client.ts';
import type { HttpsRequestOptions, HttpsResponse } from './https-client.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const vigosrvBin = join(repoRoot, 'bin', 'vigosrv');

export interface LogLine {
  msg: string;
  level: string;
  [key: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly logs: LogLine[];
  stdout(): string;
  stderr(): string;
  exited(): Promise<number | null>;
  exitCode(): number | null | undefined;
  /** Waits for a log line; fails at once if the process exits, and shows its stderr on failure. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export interface SpawnOptions {
  dataDir: string;
  /** Listen addresses; ephemeral loopback ports by default. Fixed ones let a restarted server keep its address. */
  grpcListen?: string;
  apiListen?: string;
  args?: string[];
  env?: Record<string, string>;
  stdio?: StdioOptions;
  /** A command that runs vigosrv, e.g. a shell that lowers a limit first: it gets the binary and its arguments. */
  wrapper?: readonly string[];
  /** How long startServer waits for "ready" (default 30 s). */
  readyTimeoutMs?: number;
}

/** Every server this process spawned that is still running: killed when the test file's process exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test file that ends without stopping a server (a failed before() hook, a cancelled test) must not
  // leave it running for the rest of the suite.
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** A loopback port nothing listens on right now (bound once, then released). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export function makeTempDir(prefix = 'vigo-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function spawnServer(options: SpawnOptions): ServerProcess {
  const args = [
    '--data-dir',
    options.dataDir,
    '--grpc-listen',
    options.grpcListen ?? '127.0.0.1:0',
    '--api-listen',
    options.apiListen ?? '127.0.0.1:0',
    ...(options.args ?? []),
  ];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('VIGO_')) env[key] = value;
  }
  // The whole suite can run with check-in processes: VIGO_TEST_CHECKIN_WORKERS=2 npm test.
  const workers = process.env['VIGO_TEST_CHECKIN_WORKERS'];
  if (workers !== undefined) env['VIGO_CHECKIN_WORKERS'] = workers;
  const [command, ...prefix] = options.wrapper ?? [vigosrvBin];
  const commandArgs = options.wrapper === undefined ? args : [...prefix, vigosrvBin, ...args];
  const child = spawn(command ?? vigosrvBin, commandArgs, {
    cwd: options.dataDir,
    env: { ...env, ...options.env },
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const logs: LogLine[] = [];
  let out = '';
  let err = '';
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    err += text;
    if (process.env['VIGO_TEST_LOG_DIR'] !== undefined)
      appendFileSync(`${process.env['VIGO_TEST_LOG_DIR']}/${child.pid}.log`, text);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log record (e.g. a stack trace line); kept in stderr()
      }
    }
  });
  let code: number | null | undefined;
  const exitedPromise = new Promise<number | null>((resolve) =>
    child.on('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  const waitForLog = async (
    what: string,
    match: (line: LogLine) => boolean,
    timeoutMs = 15_000,
  ): Promise<LogLine> => {
    try {
      return await waitFor(
        what,
        () => {
          const found = logs.find(match);
          if (found) return found;
          if (code !== undefined) throw new Error(`vigosrv exited with ${code} while waiting for ${what}`);
          return undefined;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- vigosrv stderr ---\n${err.slice(-4000)}`);
    }
  };
  return {
    child,
    dataDir: options.dataDir,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited: () => exitedPromise,
    exitCode: () => code,
    waitForLog,
  };
}

export interface ReadyServer extends ServerProcess {
  readonly apiPort: number;
  readonly grpcPort: number;
  readonly ca: string;
  readonly apiUrl: string;
  request(path: string, options?: Omit<HttpsRequestOptions, 'ca'>): Promise<HttpsResponse>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function startServer(options: SpawnOptions): Promise<ReadyServer> {
  const proc = spawnServer(options);
  let ready: LogLine;
  try {
    ready = await proc.waitForLog(
      'vigosrv to log "ready"',
      (line) => line.msg === 'ready',
      options.readyTimeoutMs ?? 30_000,
    );
  } catch (err) {
    // The caller never gets a handle to stop it with: a server that did not come up is killed here.
    if (proc.exitCode() === undefined) {
      proc.child.kill('SIGKILL');
      await proc.exited();
    }
    throw err;
  }
  const apiPort = ready['apiPort'] as number;
  const grpcPort = ready['grpcPort'] as number;
  const ca = readFileSync(ready['caFile'] as string, 'utf8');
  return readyServer(proc, { apiPort, grpcPort, ca });
}

/** A spawned server, once it is known to listen on these ports with this CA. */
export function readyServer(
  proc: ServerProcess,
  where: { apiPort: number; grpcPort: number; ca: string },
): ReadyServer {
  const apiUrl = `https://127.0.0.1:${where.apiPort}`;
  return {
    ...proc,
    ...where,
    apiUrl,
    request: (path, requestOptions) => httpsRequest(`${apiUrl}${path}`, { ...requestOptions, ca: where.ca }),
    stop: async () => {
      if (proc.exitCode() === undefined) proc.child.kill('SIGTERM');
      return proc.exited();
    },
  };
}
