/**
 * The server process's side of one check-in process: every call it relays goes through the same handlers
 * and stream sessions as a call on the server's own connections, so the answer is the same whichever
 * process terminated the connection. A request is decoded here again (the check-in process only looked
 * at its envelope) and refused as undecodable exactly as grpc-js's adapter would refuse it.
 */
import { toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  CheckInRequestSchema,
  CheckInResponseSchema,
  ReportResultsRequestSchema,
  ReportResultsResponseSchema,
  ResolveSecretsRequestSchema,
  ResolveSecretsResponseSchema,
  decodeRequest,
} from '../../../protocol/index.ts';
import type { SignedEnvelope } from '../../../protocol/index.ts';
import type { AgentService, UnaryReply } from '../agent-service.ts';
import type { CallPeer } from '../verify.ts';
import { toWireStatus } from './messages.ts';
import type { Call, Reply, WireIdentity } from './messages.ts';
import { RelayedStream } from './relayed-stream.ts';

export interface RelayDeps {
  readonly service: AgentService;
  /** The envoy's current identity generation and key; undefined when unknown or its key is refused. */
  identity(envoyId: string): WireIdentity | undefined;
  readonly maxMessageBytes: number;
}

export class FrontRelay {
  readonly #streams = new Map<number, RelayedStream>();

  constructor(
    private readonly deps: RelayDeps,
    private readonly send: (reply: Reply) => void,
    /** Hands every check-in process a key this process has just verified a call with. */
    private readonly announce: (identity: WireIdentity) => void,
  ) {}

  receive(items: readonly Call[]): void {
    for (const call of items) {
      switch (call.k) {
        case 'unary':
          this.#unary(call);
          break;
        case 'open': {
          const stream = new RelayedStream(call.sid, call.fingerprint, this.deps, this.send, () =>
            this.#streams.delete(call.sid),
          );
          this.#streams.set(call.sid, stream);
          this.deps.service.streams.handle(stream);
          break;
        }
        case 'data':
          this.#streams.get(call.sid)?.deliver(call.bytes, call.generation);
          break;
        case 'end':
          this.#streams.get(call.sid)?.remoteEnd();
          break;
        case 'cancel':
          this.#streams.get(call.sid)?.remoteCancel();
          break;
      }
    }
  }

  /** The check-in process is gone: its streams are cancelled, as their connections are. */
  closeAll(): void {
    for (const stream of [...this.#streams.values()]) stream.remoteCancel();
  }

  #unary(call: Extract<Call, { k: 'unary' }>): void {
    const peer: CallPeer = { fingerprint: call.fingerprint, verifiedGeneration: call.generation };
    const { handlers } = this.deps.service;
    switch (call.rpc) {
      case 'CheckIn':
        this.#run(call, CheckInRequestSchema, CheckInResponseSchema, (request, reply) =>
          handlers.checkIn(request, peer, reply),
        );
        return;
      case 'ReportResults':
        this.#run(call, ReportResultsRequestSchema, ReportResultsResponseSchema, (request, reply) =>
          handlers.reportResults(request, peer, reply),
        );
        return;
      case 'ResolveSecrets':
        this.#run(call, ResolveSecretsRequestSchema, ResolveSecretsResponseSchema, (request, reply) =>
          handlers.resolveSecrets(request, peer, reply),
        );
        return;
    }
  }

  #run<I extends DescMessage, O extends DescMessage>(
    call: Extract<Call, { k: 'unary' }>,
    input: I,
    output: O,
    handle: (
      request: MessageShape<I> & { envelope?: SignedEnvelope },
      reply: UnaryReply<MessageShape<O>>,
    ) => void,
  ): void {
    const decoded = decodeRequest(input, call.bytes, this.deps.maxMessageBytes);
    if ('reason' in decoded) {
      const status = this.deps.service.refuseUndecodable(input.typeName, decoded.reason);
      this.send({ k: 'unary', id: call.id, status: toWireStatus(status) });
      return;
    }
    const request = decoded.ok as MessageShape<I> & { envelope?: SignedEnvelope };
    handle(request, (err, value) => {
      if (err !== null || value === undefined) {
        this.send({ k: 'unary', id: call.id, status: toWireStatus(err ?? {}) });
        return;
      }
      // Answered, so verified: the check-in process may verify this envoy's next calls itself.
      const envoyId = request.envelope?.envoyId;
      const identity = envoyId === undefined ? undefined : this.deps.identity(envoyId);
      if (identity !== undefined && identity.generation !== call.generation) this.announce(identity);
      this.send({ k: 'unary', id: call.id, ok: toBinary(output, value) });
    });
  }
}
