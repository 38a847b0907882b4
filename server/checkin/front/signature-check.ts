/**
 * Signature verification in a check-in process, with keys the server process handed it: a verified
 * envelope is relayed with the identity generation of the key that verified it, and the server process
 * skips its own ed25519 check only while that generation is the envoy's current one. Anything that does not
 * decode or verify here is relayed unverified (generation 0) and decided, with its exact refusal, there.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { KeyObject } from 'node:crypto';
import {
  AgentStreamRequestSchema,
  CheckInRequestSchema,
  ReportResultsRequestSchema,
  ResolveSecretsRequestSchema,
  publicKeyFromRaw,
  verifyEnvelopeSignature,
} from '../../../protocol/index.ts';
import type { AgentRpc, SignedEnvelope } from '../../../protocol/index.ts';
import type { WireIdentity } from './messages.ts';

interface KnownKey {
  readonly generation: number;
  readonly raw: Uint8Array;
  key: KeyObject | undefined;
}

export interface SignatureCheck {
  /** The generation whose key verifies the request's envelope, or 0. */
  verify(rpc: AgentRpc, requestBytes: Uint8Array): number;
  /** Keeps the key the server process vouched for (it verified a call of this envoy with it). */
  learn(identity: WireIdentity): void;
  readonly size: number;
}

function envelopeOf(rpc: AgentRpc, bytes: Uint8Array): SignedEnvelope | undefined {
  try {
    switch (rpc) {
      case 'CheckIn':
        return fromBinary(CheckInRequestSchema, bytes).envelope;
      case 'ReportResults':
        return fromBinary(ReportResultsRequestSchema, bytes).envelope;
      case 'ResolveSecrets':
        return fromBinary(ResolveSecretsRequestSchema, bytes).envelope;
      case 'AgentStream':
        return fromBinary(AgentStreamRequestSchema, bytes).envelope;
    }
  } catch {
    return undefined;
  }
}

export function createSignatureCheck(): SignatureCheck {
  const keys = new Map<string, KnownKey>();
  return {
    verify: (rpc, bytes) => {
      const envelope = envelopeOf(rpc, bytes);
      if (envelope === undefined) return 0;
      const known = keys.get(envelope.envoyId);
      if (known === undefined) return 0;
      try {
        known.key ??= publicKeyFromRaw(known.raw);
        return verifyEnvelopeSignature(known.key, rpc, envelope) ? known.generation : 0;
      } catch {
        return 0;
      }
    },
    learn: (identity) => {
      if (keys.get(identity.envoyId)?.generation === identity.generation) return;
      keys.set(identity.envoyId, {
        generation: identity.generation,
        raw: identity.publicKeyRaw,
        key: undefined,
      });
    },
    get size() {
      return keys.size;
    },
  };
}
