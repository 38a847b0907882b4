/**
 * For the agent's stream tests: a grpc-js server on a loopback port that plays the server's side of
 * AgentStream. It records every stream the agent opens and each payload it sends (decoded), and lets a
 * test push messages or end a stream.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AgentStreamResponseSchema, VigoAgent, addService, decodePayload } from '../../protocol/index.ts';
import type { AgentStreamRequest, AgentStreamResponse, PayloadOf } from '../../protocol/index.ts';
import type { ServerLink } from './server-link.ts';
import { linkToTestServer } from './server-link.fixture.ts';

export type ReceivedKind = PayloadOf<'AgentStream'>['kind'];
export type PushedKind = MessageInitShape<typeof AgentStreamResponseSchema>['kind'];

export interface OpenedStream {
  readonly call: grpc.ServerDuplexStream<AgentStreamRequest, AgentStreamResponse>;
  readonly received: ReceivedKind[];
  ended: boolean;
  push(kind: PushedKind): void;
  /** Ends the stream from the server's side, as a restarting server does. */
  drop(): void;
}

export interface AgentStreamServer {
  readonly link: ServerLink;
  readonly opened: OpenedStream[];
  close(): void;
}

export async function startAgentStreamServer(hostname: string): Promise<AgentStreamServer> {
  const server = new grpc.Server();
  const opened: OpenedStream[] = [];
  const unused = (): never => {
    throw new Error('not part of this test');
  };
  addService(server, VigoAgent, {
    checkIn: unused,
    reportResults: unused,
    resolveSecrets: unused,
    agentStream: (call: grpc.ServerDuplexStream<AgentStreamRequest, AgentStreamResponse>) => {
      const entry: OpenedStream = {
        call,
        received: [],
        ended: false,
        push: (kind) => call.write(create(AgentStreamResponseSchema, { kind })),
        drop: () =>
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'server.draining: stopping' }),
      };
      opened.push(entry);
      call.on('data', (request: AgentStreamRequest) =>
        entry.received.push(decodePayload('AgentStream', request.envelope?.body ?? new Uint8Array()).kind),
      );
      const end = (): void => {
        entry.ended = true;
      };
      call.on('cancelled', end);
      call.on('end', end);
      call.on('error', end);
    },
  });
  const link = await linkToTestServer(server, hostname);
  return {
    link,
    opened,
    close: () => {
      link.close();
      server.forceShutdown();
    },
  };
}

/** The TaskResults a stream received, in order. */
export function taskResultsOf(stream: OpenedStream) {
  return stream.received.flatMap((k) => (k.case === 'taskResult' ? [k.value] : []));
}

/** The QueryResults a stream received, in order. */
export function queryResultsOf(stream: OpenedStream) {
  return stream.received.flatMap((k) => (k.case === 'queryResult' ? [k.value] : []));
}
