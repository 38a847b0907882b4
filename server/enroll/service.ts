/**
 * The enroll module's service: enrollment for hosts (open to the network, rate-limited per source
 * address) and token administration for admins. Transports call these; none of them sees HTTP.
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { Ctx, Logger } from '../core/index.ts';
import { VigoError, isVigoError } from '../core/index.ts';
import { parseDialAddress } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { enrollEnvoy } from './enroll.ts';
import type { EnrollInput, EnrollPki, EnrollResult, EnrolledEnvoy } from './enroll.ts';
import { FairQueue } from './fair-queue.ts';
import { rateLimitKey } from '../net/index.ts';
import { FailureLimiter } from './rate-limiter.ts';
import { createToken, listEnrollTokens, revokeToken } from './tokens.ts';
import type { CreateTokenInput, CreatedEnrollToken, EnrollTokenView, TokenListing } from './tokens.ts';

/** bcrypt work factor for token secrets: ~50 ms a hash here, paid once per enrollment attempt. */
export const enrollBcryptCost = 10;
export const defaultEnrollFailureLimit = { maxFailures: 10, windowMs: 5 * 60_000 } as const;

export interface EnrollServiceDeps {
  readonly store: Store;
  readonly pki: EnrollPki;
  readonly log: Logger;
  /**
   * host:port agents dial for gRPC check-ins, handed out at enrollment, given the host the enrollment
   * request was addressed to (see agentDialAddress).
   */
  readonly grpcAddress: (requestHost: string | undefined) => string;
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
  /** The host the request was addressed to (HTTP Host or :authority, without port), as sent. */
  readonly requestHost?: string;
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
        const grpcAddress = deps.grpcAddress(request.requestHost);
        const input = await request.readInput();
        const result = await queue.run(limitKey, () =>
          enrollEnvoy({ ...useCaseDeps, grpcAddress }, input, request.sourceIp, request.log),
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

export interface AgentDialOptions {
  /** server.grpc_advertise: "host", "host:port", or "" for none. */
  readonly advertised: string;
  /** The host the enrollment request was addressed to, as sent (untrusted). */
  readonly requestHost: string | undefined;
  /** Used when neither names a usable host: server.hostname. */
  readonly fallbackHost: string;
  /** The gRPC listener's port, for an address given without one. */
  readonly grpcPort: number;
}

/**
 * The address agents dial, `host:port` with an IPv6 literal in brackets: the configured advertised
 * address, else the host the agent's enrollment request was addressed to (a name that reached this server
 * from that agent, unlike server.hostname, which may not resolve there), else server.hostname. A request
 * host is taken only when it is a plain DNS name or IP address.
 */
export function agentDialAddress(options: AgentDialOptions): string {
  const fromRequest = options.requestHost === undefined ? undefined : parseDialAddress(options.requestHost);
  const chosen =
    (options.advertised === '' ? undefined : parseDialAddress(options.advertised)) ??
    // The request's port is the API's, never the gRPC listener's.
    (fromRequest === undefined ? undefined : { host: fromRequest.host, port: undefined }) ??
    parseDialAddress(options.fallbackHost);
  const host = chosen?.host ?? options.fallbackHost;
  const port = chosen?.port ?? options.grpcPort;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The host of server.grpc_advertise, which the server certificate must name; none when it is "". */
export function advertisedSans(advertised: string): string[] {
  const parsed = advertised === '' ? undefined : parseDialAddress(advertised);
  return parsed === undefined ? [] : [parsed.host];
}
