/** A refusal as grpc-js sends it: the status of a stable code, its explanation, and the code in trailers. */
import type * as grpc from '@grpc/grpc-js';
import {
  envelopeRejections,
  errorStatusMessage,
  errorStatusMetadata,
  rpcErrorCodes,
} from '../../protocol/index.ts';

export type Rejection = { code: number; details: string; metadata: grpc.Metadata };

export type RejectionCode = keyof typeof rpcErrorCodes | keyof typeof envelopeRejections;

export function rejection(code: RejectionCode, text: string, retryAfterMs?: number): Rejection {
  const status =
    code in rpcErrorCodes
      ? rpcErrorCodes[code as keyof typeof rpcErrorCodes]
      : envelopeRejections[code as keyof typeof envelopeRejections];
  return {
    code: status,
    details: errorStatusMessage(code, text),
    metadata: errorStatusMetadata(code, retryAfterMs),
  };
}
