/**
 * A protocol-level agent for orchestration tests: an enrolled envoy (agent-client.ts) that checks in and
 * holds an AgentStream on the real vigosrv, signing every message as agent.proto says, records what the
 * server pushes and answers each LiveQuery with what the test says (or stays silent).
 */
import type * as grpc from '@grpc/grpc-js';
import { createEnvelopeClock, signRequest } from '../../protocol/index.ts';
import type { AgentStreamResponse, CheckInResponse, PayloadInit } from '../../protocol/index.ts';
import { agentClient } from './agent-client.ts';
import type { EnrolledAgent } from './agent-client.ts';
import type { ReadyServer } from './server-process.ts';

/** JSON text for a value, `{ error }` for a failed read, undefined to stay silent. */
export type QueryAnswer = (traitPath: string) => string | { error: string } | undefined;

export interface StreamAgent {
  readonly agent: EnrolledAgent;
  /** Every message the server pushed, in order. */
  readonly received: AgentStreamResponse[];
  checkIn(payload: PayloadInit<'CheckIn'>): Promise<CheckInResponse>;
  /** Opens the stream and says Hello (the server counts it open once the Hello is durable). */
  openStream(answer: QueryAnswer): void;
  closeStream(): void;
  close(): void;
}

export function streamAgent(server: ReadyServer, agent: EnrolledAgent): StreamAgent {
  const client = agentClient(server, agent);
  const clock = createEnvelopeClock();
  const received: AgentStreamResponse[] = [];
  let stream: grpc.ClientDuplexStream<unknown, AgentStreamResponse> | undefined;
  const say = (kind: PayloadInit<'AgentStream'>['kind']): void => {
    stream?.write(signRequest('AgentStream', agent.signingKey, agent.envoyId, clock(), { kind }));
  };
  const closeStream = (): void => {
    stream?.cancel();
    stream = undefined;
  };
  return {
    agent,
    received,
    checkIn: (payload) =>
      client.methods.checkIn(
        signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
          hostname: agent.hostname,
          ...payload,
        }),
      ),
    openStream: (answer) => {
      const opened = client.methods.agentStream() as unknown as grpc.ClientDuplexStream<
        unknown,
        AgentStreamResponse
      >;
      stream = opened;
      opened.on('error', () => undefined);
      opened.on('data', (message: AgentStreamResponse) => {
        received.push(message);
        if (message.kind.case !== 'liveQuery') return;
        const { queryId, traitPath } = message.kind.value;
        const reply = answer(traitPath);
        if (reply === undefined) return;
        say({
          case: 'queryResult',
          value:
            typeof reply === 'string'
              ? { queryId, valueJson: Buffer.from(reply) }
              : { queryId, error: reply.error },
        });
      });
      say({ case: 'hello', value: { agentVersion: 'stream-agent' } });
    },
    closeStream,
    close: () => {
      closeStream();
      client.close();
    },
  };
}
