/**
 * Signed envelopes: the exact signed bytes of agent.proto, signing on the agent, verification on the server.
 * This is the check-in hot path, so signing and verification use pre-parsed KeyObjects and build the signed
 * bytes with one allocation.
 */
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { VigoError } from '../server/core/index.ts';
import {
  AgentStreamPayloadSchema,
  AgentStreamRequestSchema,
  CheckInPayloadSchema,
  CheckInRequestSchema,
  ReportResultsPayloadSchema,
  ReportResultsRequestSchema,
  ResolveSecretsPayloadSchema,
  ResolveSecretsRequestSchema,
  SignedEnvelopeSchema,
} from '../gen/vigo/agent/v1/agent_pb.ts';
import type { SignedEnvelope } from '../gen/vigo/agent/v1/agent_pb.ts';
import { agentRpcs, envelopeDomainPrefix, protocolLimits } from './constants.ts';
import type { AgentRpc } from './constants.ts';
import { assertEd25519 } from './keys.ts';

const domainPrefixes = new Map<string, Buffer>(
  agentRpcs.map((rpc) => [rpc, Buffer.from(`${envelopeDomainPrefix}${rpc}\0`, 'latin1')]),
);

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * The bytes an envelope's signature covers (agent.proto, "Signed bytes"):
 * `"vigo/v1/" + rpc + "\0" || u16be(len(envoyId)) || envoyId || i64be(tsMs) || body`.
 * Throws `request.invalid` for an unknown rpc, an envoy id over 65,535 UTF-8 bytes or a timestamp outside
 * int64 (these cannot be encoded at all; the protocol's tighter limits are checked by `envelopeProblem`).
 */
export function signedBytes(rpc: AgentRpc, envoyId: string, tsMs: bigint | number, body: Uint8Array): Buffer {
  const prefix = domainPrefixes.get(rpc);
  if (prefix === undefined) {
    throw new VigoError(
      'request.invalid',
      `Unknown agent RPC "${String(rpc)}"; use one of ${agentRpcs.join(', ')}.`,
    );
  }
  const ts = toInt64(tsMs);
  const idBytes = Buffer.byteLength(envoyId, 'utf8');
  if (idBytes > 0xffff) {
    throw new VigoError('request.invalid', `Envoy id is ${idBytes} bytes; it cannot be longer than 65535.`);
  }
  const out = Buffer.allocUnsafe(prefix.length + 2 + idBytes + 8 + body.length);
  let offset = prefix.copy(out, 0);
  offset = out.writeUInt16BE(idBytes, offset);
  offset += out.write(envoyId, offset, 'utf8');
  offset = out.writeBigInt64BE(ts, offset);
  out.set(body, offset);
  return out;
}

/**
 * Why an envelope breaks the protocol's structural rules (check 1 of agent.proto: the server answers
 * INVALID_ARGUMENT checkin.envelope_invalid), or undefined when it is well formed.
 */
export function envelopeProblem(envelope: SignedEnvelope | undefined): string | undefined {
  if (envelope === undefined) return 'the request has no envelope (field 1)';
  const problem = fieldsProblem(envelope.envoyId, envelope.tsMs, envelope.body.length);
  if (problem !== undefined) return problem;
  if (envelope.signature.length !== protocolLimits.signatureBytes) {
    return `envelope.signature is ${envelope.signature.length} bytes; an Ed25519 signature is ${protocolLimits.signatureBytes}`;
  }
  return undefined;
}

function fieldsProblem(envoyId: string, tsMs: bigint, bodyBytes: number): string | undefined {
  const idBytes = Buffer.byteLength(envoyId, 'utf8');
  if (idBytes === 0) return 'envelope.envoy_id is empty';
  if (idBytes > protocolLimits.envoyIdMaxBytes) {
    return `envelope.envoy_id is ${idBytes} bytes; the limit is ${protocolLimits.envoyIdMaxBytes}`;
  }
  if (tsMs <= 0n) return `envelope.ts_ms is ${tsMs}; it must be Unix milliseconds > 0`;
  if (bodyBytes > protocolLimits.bodyMaxBytes) {
    return `envelope.body is ${bodyBytes} bytes; the limit is ${protocolLimits.bodyMaxBytes}`;
  }
  return undefined;
}

/**
 * Signs `body` for `rpc` with the agent's enrollment key. Throws `request.invalid` when the envelope would
 * break the protocol's limits (the server would refuse it anyway) and `pki.key_invalid` for a key that is
 * not an Ed25519 private key.
 */
export function signEnvelope(
  privateKey: KeyObject,
  rpc: AgentRpc,
  envoyId: string,
  tsMs: bigint | number,
  body: Uint8Array,
): SignedEnvelope {
  assertEd25519(privateKey, 'private');
  const ts = toInt64(tsMs);
  const problem = fieldsProblem(envoyId, ts, body.length);
  if (problem !== undefined) {
    throw new VigoError('request.invalid', `Cannot sign this ${rpc} request: ${problem}.`, { rpc });
  }
  return create(SignedEnvelopeSchema, {
    envoyId,
    tsMs: ts,
    body,
    signature: sign(null, signedBytes(rpc, envoyId, ts, body), privateKey),
  });
}

/**
 * True only when `envelope` is well formed and its signature verifies for `rpc` under `publicKey`.
 * Never throws: garbage of any shape (wrong lengths, wrong key type, unknown rpc) is simply false.
 */
export function verifyEnvelopeSignature(
  publicKey: KeyObject,
  rpc: AgentRpc,
  envelope: SignedEnvelope | undefined,
): boolean {
  try {
    if (envelope === undefined || envelopeProblem(envelope) !== undefined) return false;
    const data = signedBytes(rpc, envelope.envoyId, envelope.tsMs, envelope.body);
    return verify(null, data, publicKey, envelope.signature);
  } catch {
    return false;
  }
}

const rpcMessages = {
  CheckIn: { request: CheckInRequestSchema, payload: CheckInPayloadSchema },
  ReportResults: { request: ReportResultsRequestSchema, payload: ReportResultsPayloadSchema },
  ResolveSecrets: { request: ResolveSecretsRequestSchema, payload: ResolveSecretsPayloadSchema },
  AgentStream: { request: AgentStreamRequestSchema, payload: AgentStreamPayloadSchema },
} as const satisfies Record<AgentRpc, { request: DescMessage; payload: DescMessage }>;

type RpcMessages = typeof rpcMessages;
/** The request message of an RPC (CheckInRequest for CheckIn, …). */
export type RequestOf<R extends AgentRpc> = MessageShape<RpcMessages[R]['request']>;
/** The payload message an RPC's envelope body carries (CheckInPayload for CheckIn, …). */
export type PayloadOf<R extends AgentRpc> = MessageShape<RpcMessages[R]['payload']>;
/** A payload message or a plain object to build one from. */
export type PayloadInit<R extends AgentRpc> = MessageInitShape<RpcMessages[R]['payload']>;

/** Serializes `payload`, signs it and wraps it in the RPC's request message, ready to send. */
export function signRequest<R extends AgentRpc>(
  rpc: R,
  privateKey: KeyObject,
  envoyId: string,
  tsMs: bigint | number,
  payload: PayloadInit<R>,
): RequestOf<R> {
  // The schema pair is chosen by `rpc` at run time; TypeScript cannot correlate it with R, hence the
  // widening to DescMessage here and the cast back on return.
  const schemas: { request: DescMessage; payload: DescMessage } = rpcMessages[rpc];
  const message = create(schemas.payload, payload as MessageInitShape<DescMessage>);
  const envelope = signEnvelope(privateKey, rpc, envoyId, tsMs, toBinary(schemas.payload, message));
  return create(schemas.request, { envelope }) as RequestOf<R>;
}

/**
 * Decodes a verified envelope body as the RPC's payload message. Throws `request.invalid` when the bytes are
 * not that message (the server answers INVALID_ARGUMENT checkin.payload_invalid).
 */
export function decodePayload<R extends AgentRpc>(rpc: R, body: Uint8Array): PayloadOf<R> {
  const schema: DescMessage = rpcMessages[rpc].payload;
  try {
    return fromBinary(schema, body) as PayloadOf<R>;
  } catch (err) {
    throw new VigoError(
      'request.invalid',
      `The ${rpc} envelope body is not a valid ${schema.typeName} message: ${(err as Error).message}.`,
      { rpc },
      { cause: err },
    );
  }
}

/**
 * The agent's timestamp rule: each call returns max(now, previous + 1) in Unix milliseconds, so
 * successive envelopes always carry strictly increasing ts_ms even when the clock steps back.
 * `lastTsMs` resumes from a timestamp persisted by a previous process.
 */
export function createEnvelopeClock(lastTsMs: bigint = 0n, nowMs: () => number = Date.now): () => bigint {
  let last = lastTsMs;
  return () => {
    const now = BigInt(Math.trunc(nowMs()));
    last = now > last ? now : last + 1n;
    return last;
  };
}

function toInt64(tsMs: bigint | number): bigint {
  if (typeof tsMs === 'number' && !Number.isSafeInteger(tsMs)) {
    throw new VigoError('request.invalid', `ts_ms must be an integer number of milliseconds, got ${tsMs}.`);
  }
  const ts = BigInt(tsMs);
  if (ts < int64Min || ts > int64Max) {
    throw new VigoError('request.invalid', `ts_ms ${ts} does not fit a signed 64-bit integer.`);
  }
  return ts;
}
