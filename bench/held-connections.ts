/**
 * What an idle held agent connection costs vigosrv in memory. Starts the real vigosrv (bin/vigosrv, with
 * a small probe loaded that reports its memory after full garbage collections), then client processes
 * open N mTLS HTTP/2 connections to its agent port as the reference agent does — TLS handshake with a
 * client certificate from the server's CA, HTTP/2 preface and SETTINGS, then signed CheckIns with the
 * headers grpc-js sends — and hold them idle. Per connection it prints the server's resident memory
 * (RSS), JS heap, external memory (ArrayBuffers) and the native rest (OpenSSL, nghttp2, node's C++
 * objects), over the second half of the connections (the first half also pays one-time growth) and over
 * all of them. `--check-ins 20` shows a connection that has carried an agent's calls for a while.
 * Figures, not tests: never part of npm test.
 *
 *   npm run bench:held -- [--connections N] [--clients P] [--check-ins K] [--snapshot DIR] [--quick]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ReadyServer } from '../test/helpers/server-process.ts';
import { makeTempDir, startServer } from '../test/helpers/server-process.ts';
import { issueLoadgenIdentity, openBenchPki, seedEnvoys } from './checkin/seed.ts';
import type {
  ClientInit,
  FromClient,
  FromProbe,
  ServerMemory,
  ToClient,
  ToProbe,
} from './held-connections/protocol.ts';

interface Options {
  connections: number;
  clients: number;
  checkInsPerConnection: number;
  warmupConnections: number;
  snapshotDir: string | undefined;
}

const usage = `usage: npm run bench:held -- [options]
  --connections N   idle agent connections held at once (default 10000; --quick 2000)
  --clients P       client processes sharing them (default 2)
  --check-ins K     signed CheckIns on each connection before it idles (default 1; 0 = none)
  --snapshot DIR    write vigosrv heap snapshots before and with the connections into DIR
  --quick           2,000 connections
  --help`;

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      connections: { type: 'string' },
      clients: { type: 'string' },
      'check-ins': { type: 'string' },
      snapshot: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const whole = (flag: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`--${flag} must be a whole number of at least 1, got "${text}"`);
    }
    return value;
  };
  const count = (flag: string, text: string | undefined, fallback: number): number =>
    text === '0' ? 0 : whole(flag, text, fallback);
  const options: Options = {
    connections: whole('connections', values.connections, values.quick ? 2_000 : 10_000),
    clients: whole('clients', values.clients, 2),
    checkInsPerConnection: count('check-ins', values['check-ins'], 1),
    warmupConnections: 200,
    snapshotDir: values.snapshot,
  };
  // vigosrv and each client process hold one descriptor per connection; 20,000 is a common per-process cap.
  if (options.connections > 19_000) throw new Error('--connections is at most 19000 (descriptors)');
  if (options.connections / options.clients > 19_000) throw new Error('too many connections per client');
  return options;
}

/** Connections each client process sets up at once. */
const concurrency = 32;

function say(text: string): void {
  process.stderr.write(`[bench:held] ${text}\n`);
}

const temp = makeTempDir('vigo-bench-held-');
const children = new Set<ChildProcess>();
let server: ReadyServer | undefined;

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  server?.child.kill('SIGKILL');
  rmSync(temp.path, { recursive: true, force: true });
});
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => process.exit(code));
}

/** Sends `message` to `child` and waits for its first reply of type `type`. */
function ask<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  message: object,
  type: T,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: M): void => {
      if (reply.type === 'failed') {
        done();
        reject(new Error(`client failed: ${(reply as { message?: string }).message}`));
      } else if (reply.type === type) {
        done();
        resolve(reply as Extract<M, { type: T }>);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`process ${child.pid} exited (${code}) while waiting for "${type}"`));
    };
    const done = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

async function measure(target: ReadyServer): Promise<ServerMemory> {
  const reply = await ask<FromProbe, 'memory'>(target.child, { type: 'measure' } satisfies ToProbe, 'memory');
  return reply.memory;
}

async function snapshot(target: ReadyServer, dir: string | undefined, name: string): Promise<void> {
  if (dir === undefined) return;
  const file = join(dir, `${name}.heapsnapshot`);
  await ask<FromProbe, 'snapshot'>(target.child, { type: 'snapshot', file } satisfies ToProbe, 'snapshot');
  say(`heap snapshot: ${file}`);
}

/** Each client opens its share of `total` connections; resolves when all are up (or failed). */
async function openConnections(
  clients: ChildProcess[],
  init: Omit<ClientInit, 'firstEnvoy' | 'count'>,
  total: number,
) {
  const replies = await Promise.all(
    clients.map((client, i) => {
      const count = Math.floor(total / clients.length) + (i < total % clients.length ? 1 : 0);
      const message: ToClient = { type: 'open', init: { ...init, firstEnvoy: i * init.concurrency, count } };
      return ask<FromClient, 'opened'>(client, message, 'opened');
    }),
  );
  const open = replies.reduce((sum, r) => sum + r.open, 0);
  const failed = replies.reduce((sum, r) => sum + r.failed, 0);
  const checkInsOk = replies.reduce((sum, r) => sum + r.checkInsOk, 0);
  const firstError = replies.find((r) => r.firstError !== undefined)?.firstError;
  const checkIns = open * init.checkInsPerConnection;
  if (failed > 0 || checkInsOk !== checkIns) {
    throw new Error(`${failed} connections failed, ${checkIns - checkInsOk} check-ins failed: ${firstError}`);
  }
  return open;
}

/** Asks a client to close its connections and exit, and waits for it to be gone. */
function exitClient(client: ChildProcess): Promise<void> {
  if (client.exitCode !== null || client.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    client.once('exit', () => resolve());
    client.send({ type: 'exit' } satisfies ToClient);
  });
}

async function closeConnections(clients: ChildProcess[]): Promise<void> {
  await Promise.all(
    clients.map((c) => ask<FromClient, 'closed'>(c, { type: 'close' } satisfies ToClient, 'closed')),
  );
}

interface PerConnection {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Resident memory outside the JS heap and its external buffers: OpenSSL, nghttp2, node's C++ objects. */
  nativeBytes: number;
}

function perConnection(from: ServerMemory, to: ServerMemory, n: number): PerConnection {
  const per = (key: keyof ServerMemory): number => (to[key] - from[key]) / n;
  return {
    rssBytes: per('rssBytes'),
    heapUsedBytes: per('heapUsedBytes'),
    heapTotalBytes: per('heapTotalBytes'),
    externalBytes: per('externalBytes'),
    arrayBuffersBytes: per('arrayBuffersBytes'),
    nativeBytes: per('rssBytes') - per('heapUsedBytes') - per('externalBytes'),
  };
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

async function run(options: Options): Promise<void> {
  const dataDir = join(temp.path, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const identity = await issueLoadgenIdentity(await openBenchPki(dataDir), temp.path);
  const seeded = await seedEnvoys({
    dataDir,
    envoys: options.clients * concurrency,
    outDir: temp.path,
    identity,
  });
  const probe = pathToFileURL(join(import.meta.dirname, 'held-connections', 'probe.ts')).href;
  // vigosrv runs in its data directory, so tsx is named by its resolved location, not by package name.
  const tsx = import.meta.resolve('tsx');
  const nodeOptions = [process.env['NODE_OPTIONS'] ?? '', `--import ${tsx}`, `--import ${probe}`]
    .join(' ')
    .trim();
  server = await startServer({
    dataDir,
    env: { NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const target = server;
  say(`vigosrv pid ${target.child.pid} on agent port ${target.grpcPort}; data in ${temp.path}`);

  const clients = Array.from({ length: options.clients }, () => {
    const child = fork(join(import.meta.dirname, 'held-connections', 'clients.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    return child;
  });
  const init = {
    port: target.grpcPort,
    caFile: identity.caFile,
    clientKeyFile: identity.clientKeyFile,
    clientCertFile: identity.clientCertFile,
    envoysFile: seeded.envoysFile,
    checkInsPerConnection: options.checkInsPerConnection,
    concurrency,
  };

  // Code paths, pools and caches that are filled once per process, not per connection, before the baseline.
  await openConnections(clients, init, options.warmupConnections);
  await closeConnections(clients);
  if (options.snapshotDir !== undefined) mkdirSync(options.snapshotDir, { recursive: true });
  const before = await measure(target);
  await snapshot(target, options.snapshotDir, 'before');

  // Two halves: what the second half adds is free of one-time growth (V8's young generation, pools),
  // which the first half pays.
  const firstHalf = Math.floor(options.connections / 2);
  const started = performance.now();
  const opened = await openConnections(clients, init, firstHalf);
  const half = await measure(target);
  const n = opened + (await openConnections(clients, init, options.connections - firstHalf));
  const openMs = performance.now() - started;
  say(`${n} connections open in ${Math.round(openMs)} ms, ${options.checkInsPerConnection} CheckIns each`);
  const held = await measure(target);
  await snapshot(target, options.snapshotDir, 'held');

  await closeConnections(clients);
  const closed = await measure(target);
  await Promise.all(clients.map((c) => exitClient(c)));
  await target.stop();
  server = undefined;

  const figures: Figures = {
    connections: n,
    checkInsPerConnection: options.checkInsPerConnection,
    average: perConnection(before, held, n),
    secondHalf: perConnection(half, held, n - opened),
    retainedAfterClose: perConnection(before, closed, n),
    memory: { before, half, held, closed },
  };
  process.stdout.write(report(figures, options.snapshotDir !== undefined));
}

interface Figures {
  connections: number;
  checkInsPerConnection: number;
  average: PerConnection;
  secondHalf: PerConnection;
  retainedAfterClose: PerConnection;
  memory: Record<'before' | 'half' | 'held' | 'closed', ServerMemory>;
}

function report(f: Figures, snapshots: boolean): string {
  const row = (name: string, p: PerConnection): string =>
    `  ${name.padEnd(22)} ${kb(p.rssBytes).padStart(9)} ${kb(p.heapUsedBytes).padStart(9)} ` +
    `${kb(p.externalBytes).padStart(9)} ${kb(p.nativeBytes).padStart(9)}`;
  return [
    `idle held agent connections to vigosrv: ${f.connections}, ${f.checkInsPerConnection} CheckIns each ` +
      `(vigosrv descriptors ${f.memory.before.openFds} -> ${f.memory.held.openFds})`,
    `  server RSS ${kb(f.memory.before.rssBytes)} before, ${kb(f.memory.held.rssBytes)} with the connections`,
    `  per connection               RSS   JS heap  external    native`,
    row('second half (marginal)', f.secondHalf),
    row('all connections', f.average),
    row('kept after closing all', f.retainedAfterClose),
    '  target: <= 16 KB RSS per idle connection (marginal). native = RSS - JS heap - external: OpenSSL,',
    "  nghttp2, node's C++ objects, malloc overhead. Kept after closing: freed memory malloc does not return.",
    ...(snapshots
      ? ['  (heap snapshots were written during the run: RSS figures include their garbage)']
      : []),
    JSON.stringify({ bench: 'held-connections', ...f }),
    '',
  ].join('\n');
}

let parsed: Options | 'help';
try {
  parsed = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${usage}\n`);
} else {
  await run(parsed);
  process.exit(0);
}
