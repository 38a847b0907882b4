/**
 * The agent service as a check-in process serves it: the same paths and streaming kinds as
 * agent.proto's VigoAgent, with messages left as bytes, which travel to the server process unchanged.
 * grpc-js still bounds their size (grpc.max_receive_message_length).
 */
import type * as grpc from '@grpc/grpc-js';
import { VigoAgent } from '../../../protocol/index.ts';

const same = (bytes: Buffer): Buffer => bytes;

export function rawAgentService(): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of VigoAgent.methods) {
    const kind = method.methodKind;
    definition[method.localName] = {
      path: `/${VigoAgent.typeName}/${method.name}`,
      requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
      responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
      originalName: method.name,
    };
  }
  return definition;
}
