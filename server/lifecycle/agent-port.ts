/**
 * The agent port: the gRPC listener with the agent service, and with checkin.workers > 1 the check-in
 * processes it hands connections to (server/checkin/front). Whichever process terminates a connection,
 * the service registered here answers its calls.
 */
import { availableParallelism } from 'node:os';
import { protocolLimits } from '../../protocol/index.ts';
import { registerAgentService } from '../checkin/index.ts';
import type { AgentService, AgentServiceDeps } from '../checkin/index.ts';
import { startCheckinFronts } from '../checkin/front/index.ts';
import type { CheckinFronts } from '../checkin/front/index.ts';
import type { LoadedConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { FleetIndex } from '../fleet/index.ts';
import { defaultGrpcConnectionLimits, startGrpcListener } from '../grpc/server.ts';
import type { GrpcListener } from '../grpc/server.ts';
import { TicketKeys, defaultSessionTickets } from '../grpc/session-tickets.ts';
import type { ConnectionMetrics } from '../net/index.ts';
import type { Pki } from '../pki/index.ts';
import { listenFailure } from './open-parts.ts';
import { grpcListenerSettings } from './transport-settings.ts';

const maxMessageBytes = protocolLimits.messageMaxBytes;
/** How long a drain waits for a check-in process to finish its calls before ending it. */
const frontDrainTimeoutMs = 15_000;

export interface AgentPortDeps {
  readonly config: LoadedConfig['config'];
  readonly pki: Pki;
  readonly fleet: FleetIndex;
  readonly log: Logger;
  readonly connectionMetrics: ConnectionMetrics;
  readonly service: AgentServiceDeps;
}

export interface AgentPort {
  readonly grpc: GrpcListener;
  readonly service: AgentService;
  /** Check-in processes, when checkin.workers asks for more than one. */
  readonly fronts: CheckinFronts | undefined;
  /** Stops accepting, lets calls finish (streams must have been drained), ends the check-in processes. */
  close(): Promise<void>;
  destroy(): void;
}

/** The number of check-in processes checkin.workers asks for: 0 is one per core; 1 is none. */
export function checkinWorkers(configured: number): number {
  return configured === 0 ? availableParallelism() : configured;
}

export async function startAgentPort(deps: AgentPortDeps): Promise<AgentPort> {
  const { config, pki, fleet, log } = deps;
  const address = config['server.grpc_listen'];
  const settings = grpcListenerSettings(config, deps.connectionMetrics, log);
  const ticketKeys = new TicketKeys();
  const workers = checkinWorkers(config['checkin.workers']);
  let fronts: CheckinFronts | undefined;
  let service: AgentService | undefined;
  let grpc: GrpcListener;
  try {
    grpc = await startGrpcListener({
      host: address.host,
      port: address.port,
      caCertPem: pki.caCertPem,
      serverCertPem: pki.serverCertPem,
      serverKeyPem: pki.serverKeyPem,
      maxMessageBytes,
      ...settings,
      ticketKeys,
      handOff: (socket, serveHere) =>
        fronts === undefined ? serveHere(socket) : fronts.handOff(socket, serveHere),
      register: (server) => {
        service = registerAgentService(server, deps.service, maxMessageBytes);
      },
    });
  } catch (err) {
    throw listenFailure('agents (gRPC)', `${address.host}:${address.port}`, err);
  }
  if (service === undefined) throw new Error('the agent service was not registered');
  const agentService = service;
  if (workers > 1) {
    fronts = startCheckinFronts({
      count: workers,
      init: {
        caCertPem: pki.caCertPem,
        serverCertPem: pki.serverCertPem,
        serverKeyPem: pki.serverKeyPem,
        maxMessageBytes,
        limits: settings.limits ?? defaultGrpcConnectionLimits,
        sessionTickets: defaultSessionTickets,
      },
      ticketKeys,
      relay: {
        service: agentService,
        maxMessageBytes,
        identity: (envoyId) => {
          const entry = fleet.get(envoyId);
          if (entry === undefined || entry.keyProblem !== undefined) return undefined;
          return { envoyId, generation: entry.identityGeneration, publicKeyRaw: entry.publicKeyRaw };
        },
      },
      events: settings.events,
      log: log.child({ component: 'checkin-front' }),
    });
    log.info('check-in processes starting', { workers });
    void fronts.whenReady().then(() => log.info('check-in processes ready', { workers }));
  }
  const started = fronts;
  return {
    grpc,
    service: agentService,
    fronts,
    close: async () => {
      grpc.stopAccepting();
      await Promise.all([grpc.close(), started?.drain(frontDrainTimeoutMs)]);
    },
    destroy: () => {
      started?.destroy();
      grpc.destroy();
    },
  };
}
