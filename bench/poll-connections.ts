/**
 * What a poll-mode agent's connection costs the server, full TLS handshake against a resumed TLS 1.3
 * session. The real vigosrv in its own process (checkin.connection: poll) and `concurrency` enrolled
 * envoys, each connecting again and again in turn, as a fleet of polling agents would arrive:
 *
 * - tls: a TLS connection with the envoy's client certificate, closed once the handshake is done;
 * - poll: what a polling agent does at each cycle, with the agent's own ServerLink and resuming
 *   credentials: connect, one signed CheckIn (answered once its replay watermark is durable), close.
 *
 * Each phase runs once with a fresh session per connection (full handshakes) and once offering the newest
 * session (resumed), and reports the server's CPU per connection from /proc (user + system, all threads).
 * A bare node TLS server with the same key and CA (bench/poll/bare-tls-server.ts) is the floor: what the
 * TLS handshakes alone cost in node. Figures, not tests: never part of npm test.
 *
 *   npm run bench:poll -- [--quick] [--connections N] [--concurrency C]
 */
import { createEnvelopeClock } from '../protocol/index.ts';
import { ServerLink } from '../agent/runtime/server-link.ts';
import { TlsSessionCache, resumingCredentials } from '../agent/runtime/tls-session.ts';
import type { LoadedIdentity } from '../agent/runtime/state-dir.ts';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { parseArgs } from 'node:util';
import { createEnrollToken, enrollAgent } from '../test/helpers/agent-client.ts';
import type { EnrolledAgent } from '../test/helpers/agent-client.ts';
import type { ReadyServer } from '../test/helpers/server-process.ts';
import { makeTempDir, startServer } from '../test/helpers/server-process.ts';
import { processCpuUs } from './checkin/proc-stats.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    connections: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
  },
});
const connections = Number(values.connections ?? (values.quick ? 300 : 3000));
const concurrency = Number(values.concurrency);
if (!Number.isSafeInteger(connections) || connections < 1 || !Number.isSafeInteger(concurrency)) {
  throw new Error('--connections and --concurrency take whole numbers above 0');
}

interface PhaseFigures {
  readonly phase: string;
  readonly resumed: number;
  readonly perSecond: number;
  readonly serverCpuUsPerConnection: number;
}

function say(text: string): void {
  process.stderr.write(`[bench:poll] ${text}\n`);
}

/**
 * Runs `connections` connections, envoy i of `concurrency` connecting again whenever its last one is done;
 * returns the CPU of the server process `pid`, the wall time and how many resumed.
 */
async function measure(
  pid: number,
  one: (envoy: number) => Promise<boolean>,
): Promise<{ cpuUs: number; wallMs: number; resumed: number }> {
  let started = 0;
  let resumed = 0;
  const cpuBefore = processCpuUs(pid);
  const wallStart = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, envoy) => {
      while (started < connections) {
        started += 1;
        if (await one(envoy)) resumed += 1;
      }
    }),
  );
  return { cpuUs: processCpuUs(pid) - cpuBefore, wallMs: performance.now() - wallStart, resumed };
}

/** The bare TLS server, started on vigosrv's TLS material; resolves with its pid and port. */
function startBareTls(tlsDir: string): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const child = fork(join(import.meta.dirname, 'poll', 'bare-tls-server.ts'), [tlsDir], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the bare TLS server exited with ${code}`)));
    child.once('message', (port) => {
      if (child.pid === undefined || typeof port !== 'number')
        reject(new Error('no port from the bare server'));
      else resolve({ child, pid: child.pid, port });
    });
  });
}

function tlsOnce(
  server: ReadyServer,
  port: number,
  agent: EnrolledAgent,
  sessions: TlsSessionCache,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: server.ca,
      cert: agent.certPem,
      key: agent.tlsKeyPem,
      ALPNProtocols: ['h2'],
      session: sessions.current,
    });
    socket.on('session', (session: Buffer) => sessions.remember(session));
    socket.once('secureConnect', () => {
      const reused = socket.isSessionReused();
      // TLS 1.3 tickets follow the handshake: wait for one before closing, as an agent's calls would.
      if (sessions.current !== undefined && reused) socket.end();
      else socket.once('session', () => socket.end());
      socket.once('close', () => resolve(reused));
    });
    socket.on('data', () => undefined);
    socket.on('error', reject);
  });
}

function loaded(agent: EnrolledAgent, server: ReadyServer): LoadedIdentity {
  return {
    identity: {
      envoyId: agent.envoyId,
      hostname: agent.hostname,
      grpcAddress: `127.0.0.1:${server.grpcPort}`,
      apiUrl: server.apiUrl,
      bundlePublicKey: '',
      enrolledAtMs: Date.now(),
    },
    signingKey: agent.signingKey,
    tlsKeyPem: agent.tlsKeyPem,
    tlsCertPem: agent.certPem,
    caPem: server.ca,
  };
}

async function pollOnce(identity: LoadedIdentity, clock: () => bigint, sessions: TlsSessionCache) {
  const resumedBefore = sessions.handshakes.resumed;
  const credentials = resumingCredentials({
    caPem: identity.caPem,
    keyPem: identity.tlsKeyPem,
    certPem: identity.tlsCertPem,
    host: '127.0.0.1',
    sessions,
  });
  const link = new ServerLink(identity, { credentials, clock });
  try {
    await link.checkIn({
      hostname: identity.identity.hostname,
      policyVersion: 0,
      stateFingerprint: '',
      traitsHash: '',
      secretsEpoch: 0,
    });
  } finally {
    link.close();
  }
  return sessions.handshakes.resumed > resumedBefore;
}

async function main(): Promise<void> {
  const temp = makeTempDir('vigo-bench-poll-');
  let server: ReadyServer | undefined;
  let bare: { child: ChildProcess } | undefined;
  try {
    server = await startServer({
      dataDir: temp.path,
      env: { VIGO_CHECKIN_CONNECTION: 'poll' },
    });
    const running = server;
    const token = await createEnrollToken(running, ['bench-poll-*.example.com'], concurrency);
    const envoys = await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const agent = await enrollAgent(running, token, `bench-poll-${i}.example.com`);
        return {
          agent,
          identity: loaded(agent, running),
          clock: createEnvelopeClock(),
          sessions: new TlsSessionCache(),
        };
      }),
    );
    const envoy = (i: number) => {
      const found = envoys[i];
      if (found === undefined) throw new Error(`no envoy ${i}`);
      return found;
    };
    const vigosrvPid = running.child.pid;
    if (vigosrvPid === undefined) throw new Error('vigosrv has no pid');
    const floor = await startBareTls(join(temp.path, 'tls'));
    bare = floor;
    const barePort = floor.port;
    const bareSessions = envoys.map(() => new TlsSessionCache());
    const figures: PhaseFigures[] = [];
    const phases: [string, number, (i: number) => Promise<boolean>][] = [
      [
        'bare node tls, full',
        floor.pid,
        (i) => tlsOnce(running, barePort, envoy(i).agent, new TlsSessionCache()),
      ],
      [
        'bare node tls, resumed',
        floor.pid,
        (i) => tlsOnce(running, barePort, envoy(i).agent, bareSessions[i] ?? new TlsSessionCache()),
      ],
      [
        'tls, full handshake',
        vigosrvPid,
        (i) => tlsOnce(running, running.grpcPort, envoy(i).agent, new TlsSessionCache()),
      ],
      [
        'tls, resumed session',
        vigosrvPid,
        (i) => tlsOnce(running, running.grpcPort, envoy(i).agent, envoy(i).sessions),
      ],
      [
        'poll cycle, full handshake',
        vigosrvPid,
        (i) => pollOnce(envoy(i).identity, envoy(i).clock, new TlsSessionCache()),
      ],
      [
        'poll cycle, resumed session',
        vigosrvPid,
        (i) => pollOnce(envoy(i).identity, envoy(i).clock, envoy(i).sessions),
      ],
    ];
    say(`${connections} connections per phase, ${concurrency} at a time`);
    for (const [phase, pid, one] of phases) {
      await measure(pid, one); // warm-up: JIT, the session to share, the envoy's parsed key
      const { cpuUs, wallMs, resumed } = await measure(pid, one);
      figures.push({
        phase,
        resumed,
        perSecond: Math.round((connections * 1000) / wallMs),
        serverCpuUsPerConnection: Math.round(cpuUs / connections),
      });
      say(`${phase}: done`);
    }
    const rows = figures.map(
      (f) =>
        `${f.phase.padEnd(30)} ${String(f.resumed).padStart(8)} ${String(f.perSecond).padStart(10)} ` +
        `${String(f.serverCpuUsPerConnection).padStart(14)}`,
    );
    const cost = (phase: string): number =>
      figures.find((f) => f.phase === phase)?.serverCpuUsPerConnection ?? Number.NaN;
    process.stdout.write(
      [
        `${'phase'.padEnd(30)} ${'resumed'.padStart(8)} ${'conns/s'.padStart(10)} ${'server µs/conn'.padStart(14)}`,
        ...rows,
        '',
        `full / resumed server CPU: bare ${(cost('bare node tls, full') / cost('bare node tls, resumed')).toFixed(1)}x, ` +
          `tls ${(cost('tls, full handshake') / cost('tls, resumed session')).toFixed(1)}x, ` +
          `poll cycle ${(cost('poll cycle, full handshake') / cost('poll cycle, resumed session')).toFixed(1)}x`,
        `limits: one machine, client and server share its ${loadavg().length > 0 ? 'cores' : 'CPU'} ` +
          `(load average ${loadavg()[0]?.toFixed(2)}); conns/s is bounded by the client side as much as the server`,
        JSON.stringify({ bench: 'poll-connections', connections, concurrency, figures }),
        '',
      ].join('\n'),
    );
  } finally {
    bare?.child.removeAllListeners('exit');
    bare?.child.kill();
    if (server !== undefined) await server.stop();
    temp.remove();
  }
}

await main();
