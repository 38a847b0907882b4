/**
 * Simulated agents for bench:orchestration, forked with an IPC channel. Each envoy of the slice opens its
 * own mTLS connection (its own client certificate, as a real agent), opens AgentStream with a signed
 * Hello, sends a Heartbeat every 30 s, and answers what the server pushes as the reference agent's
 * protocol says: a TaskDispatch with a TaskResult (succeeded, "ok" on stdout — it runs nothing, so the
 * figures are the server's), a LiveQuery with a QueryResult (one of three values, by envoy), a Ping with
 * a Heartbeat. Every message is signed with the envoy's own key and a strictly increasing timestamp.
 *
 *   (forked by bench/orchestration.ts; not meant to be run by hand)
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import {
  AgentStreamRequestSchema,
  AgentStreamResponseSchema,
  TaskStatus,
  VigoAgent,
  signRequest,
} from '../../protocol/index.ts';
import type { PayloadInit } from '../../protocol/index.ts';
import { readCertSlice } from '../checkin/envoy-certs.ts';
import { EnvoyLink } from '../checkin/envoy-link.ts';
import { readEnvoySlice } from '../checkin/seed.ts';
import type { AgentStats, AgentsInit, FromAgents, ToAgents } from './protocol.ts';

const streamPath = `/${VigoAgent.typeName}/${VigoAgent.method.agentStream.name}`;
const heartbeatMs = 30_000;
const queryValues = ['"24.04"', '"22.04"', '"12"'].map((v) => Buffer.from(v));
const okOutput = Buffer.from('ok\n');

function send(message: FromAgents): void {
  process.send?.(message);
}

const stats: AgentStats = { streamsOpen: 0, tasksAnswered: 0, queriesAnswered: 0, ended: {}, cpuUs: 0 };
const links: EnvoyLink[] = [];

async function start(init: AgentsInit): Promise<void> {
  const startedMs = performance.now();
  const { ids, keys } = readEnvoySlice(init.keysFile, init.first, init.count);
  const certs = readCertSlice(init.certsFile, init.first, init.count);
  const caPem = readFileSync(init.caFile, 'utf8');
  const keyPem = readFileSync(init.keyFile, 'utf8');
  const lastTs = new Float64Array(init.count);
  const sign = (envoy: number, payload: PayloadInit<'AgentStream'>): Uint8Array => {
    const ts = Math.max(Date.now(), lastTs[envoy]! + 1);
    lastTs[envoy] = ts;
    return toBinary(
      AgentStreamRequestSchema,
      signRequest('AgentStream', keys[envoy]!, ids[envoy]!, ts, payload),
    );
  };
  const errors: Record<string, number> = {};
  let failed = 0;
  let next = 0;

  const openOne = async (envoy: number): Promise<void> => {
    const link = await EnvoyLink.open({
      host: '127.0.0.1',
      port: init.grpcPort,
      servername: 'localhost',
      secureContext: createSecureContext({ ca: caPem, cert: certs[envoy]!, key: keyPem }),
      timeoutMs: 30_000,
    });
    links.push(link);
    const timer: { heartbeat?: NodeJS.Timeout } = {};
    const call = link.stream(
      streamPath,
      (bytes) => {
        const message = fromBinary(AgentStreamResponseSchema, bytes);
        const { kind } = message;
        if (kind.case === 'taskDispatch') {
          const now = BigInt(Date.now());
          call.send(
            sign(envoy, {
              kind: {
                case: 'taskResult',
                value: {
                  taskId: kind.value.taskId,
                  status: TaskStatus.SUCCEEDED,
                  exitCode: 0,
                  stdout: okOutput,
                  startedAtMs: now,
                  finishedAtMs: now,
                  traceparent: kind.value.traceparent,
                },
              },
            }),
          );
          stats.tasksAnswered += 1;
        } else if (kind.case === 'liveQuery') {
          call.send(
            sign(envoy, {
              kind: {
                case: 'queryResult',
                value: { queryId: kind.value.queryId, valueJson: queryValues[(init.first + envoy) % 3]! },
              },
            }),
          );
          stats.queriesAnswered += 1;
        } else if (kind.case === 'ping') {
          call.send(sign(envoy, { kind: { case: 'heartbeat', value: { pingId: kind.value.pingId } } }));
        }
      },
      (outcome) => {
        clearInterval(timer.heartbeat);
        stats.streamsOpen -= 1;
        const key = outcome === undefined ? 'OK' : outcome.details.slice(0, 60);
        stats.ended[key] = (stats.ended[key] ?? 0) + 1;
      },
    );
    stats.streamsOpen += 1;
    call.send(sign(envoy, { kind: { case: 'hello', value: { agentVersion: 'bench', policyVersion: 0n } } }));
    timer.heartbeat = setInterval(
      () => call.send(sign(envoy, { kind: { case: 'heartbeat', value: { pingId: 0n } } })),
      heartbeatMs,
    );
    timer.heartbeat.unref();
  };

  const worker = async (): Promise<void> => {
    while (next < init.count) {
      const envoy = next++;
      try {
        await openOne(envoy);
      } catch (err) {
        failed += 1;
        const key = err instanceof Error ? err.message.slice(0, 80) : String(err);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: init.concurrency }, worker));
  send({ type: 'ready', open: stats.streamsOpen, failed, errors, ms: performance.now() - startedMs });
}

process.on('message', (message: ToAgents) => {
  switch (message.type) {
    case 'init':
      start(message.init).catch((err: unknown) =>
        send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
      return;
    case 'stats': {
      const cpu = process.cpuUsage();
      send({ type: 'stats', stats: { ...stats, cpuUs: cpu.user + cpu.system } });
      return;
    }
    case 'exit':
      for (const link of links) link.destroy();
      process.exit(0);
  }
});
// The benchmark's end (or its crash) ends this process too.
process.on('disconnect', () => process.exit(0));
