/**
 * The real vigosrv start-up (server/lifecycle) inside the test process, on fixed loopback ports and a temp
 * data dir, for tests that reach into the running server: its FleetIndex (stream requests, open streams),
 * its live configuration (a SIGHUP reload is a new `view.current`), its session-ticket keys. It can be
 * drained and started again on the same ports and data, as a restarted server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enroll } from '../../agent/runtime/enroll.ts';
import { loadIdentity, statePaths } from '../../agent/runtime/state-dir.ts';
import type { LoadedIdentity, StatePaths } from '../../agent/runtime/state-dir.ts';
import type { TraitSource } from '../../agent/traits/index.ts';
import { loadConfig } from '../../server/config/index.ts';
import type { LoadedConfig } from '../../server/config/index.ts';
import { createLogger } from '../../server/core/index.ts';
import { startServer } from '../../server/lifecycle/start.ts';
import type { ConfigView, RunningServer } from '../../server/lifecycle/start.ts';
import { httpsRequest } from './https-client.ts';
import type { HttpsRequestOptions, HttpsResponse } from './https-client.ts';
import { freeLoopbackPort } from './server-process.ts';

export interface InProcessServer {
  readonly dataDir: string;
  readonly grpcPort: number;
  readonly apiPort: number;
  readonly ca: string;
  /** The running server; a new one after `restart`. */
  readonly running: RunningServer;
  /** The live configuration: assign `view.current` as a SIGHUP reload would. */
  readonly view: ConfigView;
  /** Log lines at warn and above, newest last (for failure messages). */
  readonly logs: string[];
  request(path: string, options?: Omit<HttpsRequestOptions, 'ca'>): Promise<HttpsResponse>;
  /** As the local admin (its token file). */
  adminRequest(path: string, options?: Omit<HttpsRequestOptions, 'ca'>): Promise<HttpsResponse>;
  /** A metric's value from /metrics, 0 when absent. */
  metric(pattern: RegExp): Promise<number>;
  /** An enrollment token for `globs`. */
  enrollToken(globs: string[], uses?: number): Promise<string>;
  /** Drains the server and starts it again on the same ports and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInProcessServer(options: {
  dataDir: string;
  env?: Record<string, string>;
}): Promise<InProcessServer> {
  const grpcPort = await freeLoopbackPort();
  const apiPort = await freeLoopbackPort();
  const logs: string[] = [];
  const log = createLogger({ level: 'warn', sink: { write: (line) => logs.push(line) } });
  const load = (): LoadedConfig =>
    loadConfig({
      argv: [
        '--data-dir',
        options.dataDir,
        '--grpc-listen',
        `127.0.0.1:${grpcPort}`,
        '--api-listen',
        `127.0.0.1:${apiPort}`,
      ],
      env: options.env ?? {},
      cwd: options.dataDir,
    });
  const loaded = load();
  const view: ConfigView = { current: loaded.config };
  let running = await startServer(loaded, log, view);
  let stopped = false;
  const ca = running.pki.caCertPem;
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const request = (path: string, requestOptions: Omit<HttpsRequestOptions, 'ca'> = {}) =>
    httpsRequest(`${apiUrl}${path}`, { ...requestOptions, ca });
  const adminRequest = (path: string, requestOptions: Omit<HttpsRequestOptions, 'ca'> = {}) => {
    const token = readFileSync(join(options.dataDir, 'local-admin.token'), 'utf8').trim();
    return request(path, {
      ...requestOptions,
      headers: { ...requestOptions.headers, authorization: `Bearer ${token}` },
    });
  };
  return {
    dataDir: options.dataDir,
    grpcPort,
    apiPort,
    ca,
    get running() {
      return running;
    },
    view,
    logs,
    request,
    adminRequest,
    metric: async (pattern) => {
      const body = (await adminRequest('/metrics')).body;
      return Number(pattern.exec(body)?.[1] ?? 0);
    },
    enrollToken: async (globs, uses = 10) => {
      const reply = await adminRequest('/api/v1/enroll/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostnameGlobs: globs, uses, expiresIn: '1h' }),
      });
      if (reply.status !== 201) throw new Error(`token creation failed: ${reply.status} ${reply.body}`);
      return reply.json<{ token: string }>().token;
    },
    restart: async () => {
      await running.drain('restart');
      const again = load();
      view.current = again.config;
      running = await startServer(again, log, view);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await running.drain('test over');
    },
  };
}

/** Enrolls a host with the reference agent's own enrollment into `stateDir`; returns what it loads. */
export async function enrollReferenceAgent(
  server: InProcessServer,
  token: string,
  hostname: string,
  stateDir: string,
): Promise<{ paths: StatePaths; loaded: LoadedIdentity }> {
  const paths = statePaths(stateDir);
  await enroll({ server: `127.0.0.1:${server.apiPort}`, token, hostname, caPem: server.ca, paths });
  return { paths, loaded: loadIdentity(paths) };
}

/** Traits that never change, so the agent's cycles do not depend on this machine. */
export const fixedTraits: TraitSource = {
  collect: () =>
    Promise.resolve({ traits: { os: { family: 'debian', distro: 'debian' }, arch: 'x86_64' }, errors: [] }),
};
