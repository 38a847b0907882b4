/**
 * The enroll module's service: enrollment for hosts (open to the network, rate-limited per source
 * address) and token administration for admins. Transports call these; none of them sees HTTP.
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { Ctx, Logger } from '../core/index.ts';
import { VigoError, isVigoError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { enrollEnvoy } from './enroll.ts';
import type { EnrollInput, EnrollPki, EnrollResult, EnrolledEnvoy } from './enroll.ts';
import { FairQueue } from './fair-queue.ts';
import { FailureLimiter, rateLimitKey } from './rate-limiter.ts';
import { createToken, listEnrollTokens, revokeToken } from './tokens.ts';
import type { CreateTokenInput, CreatedEnrollToken, EnrollTokenView, TokenListing } from './tokens.ts';

/** bcrypt work factor for token secrets: ~50 ms a hash here, paid once per enrollment attempt. */
export const enrollBcryptCost = 10;
export const defaultEnrollFailureLimit = { maxFailures: 10, windowMs: 5 * 60_000 } as const;

export interface EnrollServiceDeps {
  readonly store: Store;
  readonly pki: EnrollPki;
  readonly log: Logger;
  /** host:port agents dial for gRPC check-ins, handed out at enrollment (see agentDialAddress). */
  readonly grpcAddress: string;
  /** Called after each committed enrollment, e.g. to update the in-memory fleet index. */
  readonly onEnrolled?: (envoy: EnrolledEnvoy) => void;
  readonly nowMs?: () => number;
  readonly bcryptCost?: number;
  readonly failureLimit?: { readonly maxFailures: number; readonly windowMs: number };
  /** Where token comparisons wait their turn; share the identity service's. Its own queue without it. */
  readonly bcryptQueue?: FairQueue;
}

export interface EnrollRequest {
  /** The peer address failures are counted against. */
  readonly sourceIp: string;
  /** The request-scoped logger. */
  readonly log: Logger;
  /**
   * Parses the transport's request into the input. Called once the attempt has been reserved against
   * the rate limit, and its failures count as failed attempts like any other refusal.
   */
  readInput(): Promise<EnrollInput>;
}

export interface EnrollService {
  /** Throws `rate_limited` (details.retryAfterSeconds) when the source address failed too often. */
  enroll(request: EnrollRequest): Promise<EnrollResult>;
  createToken(ctx: Ctx, input: CreateTokenInput): Promise<CreatedEnrollToken>;
  listTokens(ctx: Ctx, options: { limit?: number }): TokenListing;
  revokeToken(ctx: Ctx, id: string): EnrollTokenView;
}

/** Refusals caused by what the caller sent; conflicts and internal errors are not the caller's doing. */
function countsAsFailure(err: unknown): boolean {
  return (
    isVigoError(err) && (err.kind === 'invalid' || err.kind === 'unauthenticated' || err.kind === 'forbidden')
  );
}

function rateLimited(sourceIp: string, retryAfterMs: number): VigoError {
  const retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  return new VigoError(
    'rate_limited',
    `too many failed enrollment attempts from ${sourceIp}; try again in ${retryAfterSeconds} s with a valid token`,
    { retryAfterSeconds },
  );
}

export function createEnrollService(deps: EnrollServiceDeps): EnrollService {
  const nowMs = deps.nowMs ?? Date.now;
  const bcryptCost = deps.bcryptCost ?? enrollBcryptCost;
  const limit = deps.failureLimit ?? defaultEnrollFailureLimit;
  const limiter = new FailureLimiter({ ...limit, nowMs });
  const queue = deps.bcryptQueue ?? new FairQueue();
  let decoy: Promise<string> | undefined;
  const useCaseDeps = {
    store: deps.store,
    pki: deps.pki,
    grpcAddress: deps.grpcAddress,
    nowMs,
    decoyHash: () => (decoy ??= bcrypt.hash(randomBytes(32).toString('base64url'), bcryptCost)),
    onEnrolled: deps.onEnrolled,
  };
  const adminDeps = { store: deps.store, nowMs, bcryptCost };

  return {
    enroll: async (request) => {
      const limitKey = rateLimitKey(request.sourceIp);
      // Reserved before any work, a failure until it turns out otherwise: concurrent guesses cannot
      // overtake the limit. Refused before any work and not logged, so a flood costs neither bcrypt time
      // nor log volume.
      const attempt = limiter.reserve(limitKey);
      if (attempt === undefined) throw rateLimited(request.sourceIp, limiter.retryAfterMs(limitKey));
      try {
        const input = await request.readInput();
        const result = await queue.run(limitKey, () =>
          enrollEnvoy(useCaseDeps, input, request.sourceIp, request.log),
        );
        attempt.giveBack();
        return result;
      } catch (err) {
        if (!countsAsFailure(err)) attempt.giveBack();
        // Logged, never audited: the audit chain records privileged changes, and letting an
        // unauthenticated caller append to it would let anyone grow (and flood) the chain.
        const code = isVigoError(err) ? err.code : 'internal';
        request.log.warn('enrollment refused', {
          code,
          reason: isVigoError(err) ? err.message : String(err),
          sourceIp: request.sourceIp,
        });
        throw err;
      }
    },
    createToken: (ctx, input) => createToken(adminDeps, ctx, input),
    listTokens: (_ctx, options) => listEnrollTokens(adminDeps, options),
    revokeToken: (ctx, id) => revokeToken(adminDeps, ctx, id),
  };
}

/** The address agents dial: `host:port`, with an IPv6 literal in brackets. */
export function agentDialAddress(hostname: string, grpcPort: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${grpcPort}`;
}
