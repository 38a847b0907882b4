/**
 * An AgentStream relayed from a check-in process, as the stream sessions of agent-stream.ts see it: the
 * agent's messages arrive as 'data' (decoded here), and writing, ending, or emitting 'error' with a status
 * travels back to the check-in process, which does the same to the agent's real call.
 */
import { toBinary } from '@bufbuild/protobuf';
import { EventEmitter } from 'node:events';
import {
  AgentStreamRequestSchema,
  AgentStreamResponseSchema,
  decodeRequest,
} from '../../../protocol/index.ts';
import type { AgentStreamResponse } from '../../../protocol/index.ts';
import type { AgentStreamCall } from '../agent-stream.ts';
import type { Rejection } from '../rejection.ts';
import { registerRelayedCall } from '../verify.ts';
import type { CallPeer, PeerCall } from '../verify.ts';
import { toWireStatus } from './messages.ts';
import type { Reply } from './messages.ts';
import type { RelayDeps } from './relay.ts';

export class RelayedStream extends EventEmitter implements AgentStreamCall {
  cancelled = false;
  destroyed = false;
  #peer: CallPeer;

  constructor(
    private readonly sid: number,
    fingerprint: string | undefined,
    private readonly deps: RelayDeps,
    private readonly send: (reply: Reply) => void,
    private readonly onGone: () => void,
  ) {
    super();
    this.#peer = { fingerprint, verifiedGeneration: 0 };
    registerRelayedCall(this, () => this.#peer);
    // As in grpc-js: emitting 'error' with a status ends the call with it.
    this.on('error', (status: Rejection) => this.#close(status));
  }

  getAuthContext(): ReturnType<PeerCall['getAuthContext']> {
    // Never read: callPeer() finds this call among the relayed ones first.
    return {};
  }

  write(message: AgentStreamResponse): boolean {
    if (this.destroyed) return false;
    this.send({ k: 'write', sid: this.sid, bytes: toBinary(AgentStreamResponseSchema, message) });
    return true;
  }

  end(): void {
    this.#close(undefined);
  }

  /** One message from the agent, and the generation that verified its signature in the check-in process. */
  deliver(bytes: Uint8Array, generation: number): void {
    if (this.destroyed) return;
    const decoded = decodeRequest(AgentStreamRequestSchema, bytes, this.deps.maxMessageBytes);
    if ('reason' in decoded) {
      this.emit(
        'error',
        this.deps.service.refuseUndecodable(AgentStreamRequestSchema.typeName, decoded.reason),
      );
      return;
    }
    const request = decoded.ok;
    this.#peer = { fingerprint: this.#peer.fingerprint, verifiedGeneration: generation };
    this.emit('data', request);
  }

  remoteEnd(): void {
    if (!this.destroyed) this.emit('end');
  }

  remoteCancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.destroyed = true;
    this.onGone();
    this.emit('cancelled');
  }

  #close(status: Rejection | undefined): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.onGone();
    this.send(
      status === undefined
        ? { k: 'close', sid: this.sid }
        : { k: 'close', sid: this.sid, status: toWireStatus(status) },
    );
  }
}
