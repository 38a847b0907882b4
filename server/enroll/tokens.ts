/**
 * Enrollment-token administration: create (the only moment the secret exists outside the caller),
 * list (never secrets or hashes) and revoke. Each change is audited in its own transaction.
 */
import bcrypt from 'bcrypt';
import { appendAudit } from '../audit/index.ts';
import type { Ctx } from '../core/index.ts';
import { VigoError, actorName, formatDurationMs, parseDurationMs } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { maxGlobsPerToken, normalizeGlob } from './glob.ts';
import { findToken, insertToken, listTokens, markTokenRevoked, tokenStatus } from './token-store.ts';
import type { EnrollTokenRecord, EnrollTokenStatus } from './token-store.ts';
import { isEnrollTokenId, newEnrollToken } from './token-secret.ts';

export const tokenLimits = {
  maxUses: 100_000,
  defaultUses: 1,
  defaultExpiresIn: '24h',
  maxExpiresInMs: 90 * 86_400_000,
  maxDescriptionLength: 256,
  defaultListLimit: 200,
  maxListLimit: 1000,
} as const;

export interface CreateTokenInput {
  readonly hostnameGlobs: readonly string[];
  readonly uses?: number;
  /** Go-style duration ("24h", "90m", "7d"); at most 90 days. */
  readonly expiresIn?: string;
  readonly description?: string;
}

export interface EnrollTokenView {
  readonly id: string;
  readonly hostnameGlobs: readonly string[];
  readonly usesAllowed: number;
  readonly usesCount: number;
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly description: string | null;
  readonly status: EnrollTokenStatus;
}

export interface CreatedEnrollToken extends EnrollTokenView {
  /** The whole token, `vget_<id>_<secret>`: returned once, stored only as a bcrypt hash. */
  readonly token: string;
}

export interface TokenListing {
  readonly tokens: EnrollTokenView[];
  /** True when more tokens exist than `limit` allowed to return. */
  readonly truncated: boolean;
}

export interface TokenAdminDeps {
  readonly store: Store;
  readonly nowMs: () => number;
  readonly bcryptCost: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function viewOf(token: EnrollTokenRecord, nowMs: number): EnrollTokenView {
  return {
    id: token.id,
    hostnameGlobs: token.hostnameGlobs,
    usesAllowed: token.usesAllowed,
    usesCount: token.usesCount,
    expiresAt: iso(token.expiresAtMs),
    createdAt: iso(token.createdAtMs),
    createdBy: token.createdBy,
    revokedAt: token.revokedAtMs === null ? null : iso(token.revokedAtMs),
    description: token.description,
    status: tokenStatus(token, nowMs),
  };
}

function invalidField(field: string, problem: string): VigoError {
  return new VigoError('request.invalid', `${field}: ${problem}`, { field });
}

function checkGlobs(globs: readonly string[]): string[] {
  if (globs.length === 0) {
    throw invalidField('hostnameGlobs', 'give at least one hostname glob, e.g. ["web-*.example.com"]');
  }
  if (globs.length > maxGlobsPerToken) {
    throw invalidField('hostnameGlobs', `at most ${maxGlobsPerToken} globs per token, got ${globs.length}`);
  }
  return [...new Set(globs.map(normalizeGlob))];
}

function checkUses(uses: number | undefined): number {
  const value = uses ?? tokenLimits.defaultUses;
  if (!Number.isSafeInteger(value) || value < 1 || value > tokenLimits.maxUses) {
    throw invalidField('uses', `must be a whole number from 1 to ${tokenLimits.maxUses}, got ${value}`);
  }
  return value;
}

function checkExpiresIn(expiresIn: string | undefined): number {
  const text = expiresIn ?? tokenLimits.defaultExpiresIn;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) {
    throw invalidField(
      'expiresIn',
      `${JSON.stringify(text)} is not a duration above zero such as "24h" or "7d"`,
    );
  }
  if (ms > tokenLimits.maxExpiresInMs) {
    throw invalidField(
      'expiresIn',
      `${text} is longer than the limit of ${formatDurationMs(tokenLimits.maxExpiresInMs)} (90 days)`,
    );
  }
  return ms;
}

function checkDescription(description: string | undefined): string | null {
  if (description === undefined || description.trim() === '') return null;
  if (description.length > tokenLimits.maxDescriptionLength) {
    throw invalidField('description', `at most ${tokenLimits.maxDescriptionLength} characters`);
  }
  return description.trim();
}

export async function createToken(
  deps: TokenAdminDeps,
  ctx: Ctx,
  input: CreateTokenInput,
): Promise<CreatedEnrollToken> {
  const hostnameGlobs = checkGlobs(input.hostnameGlobs);
  const usesAllowed = checkUses(input.uses);
  const expiresInMs = checkExpiresIn(input.expiresIn);
  const description = checkDescription(input.description);
  const { id, secret, token } = newEnrollToken();
  const secretHash = await bcrypt.hash(secret, deps.bcryptCost);
  const createdAtMs = deps.nowMs();
  const record = {
    id,
    secretHash,
    hostnameGlobs,
    usesAllowed,
    expiresAtMs: createdAtMs + expiresInMs,
    createdAtMs,
    createdBy: actorName(ctx.actor),
    description,
  };
  deps.store.tx((db) => {
    insertToken(db, record);
    appendAudit(db, {
      actor: record.createdBy,
      action: 'enroll_token.created',
      target: `enroll-token:${id}`,
      at: createdAtMs,
      details: { hostnameGlobs, usesAllowed, expiresAt: iso(record.expiresAtMs), description },
    });
  });
  ctx.log.info('enrollment token created', { tokenId: id, hostnameGlobs, usesAllowed });
  const view = viewOf({ ...record, usesCount: 0, revokedAtMs: null }, createdAtMs);
  return { ...view, token };
}

export function listEnrollTokens(deps: TokenAdminDeps, options: { limit?: number }): TokenListing {
  const limit = options.limit ?? tokenLimits.defaultListLimit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > tokenLimits.maxListLimit) {
    throw invalidField('limit', `must be a whole number from 1 to ${tokenLimits.maxListLimit}, got ${limit}`);
  }
  const nowMs = deps.nowMs();
  const rows = listTokens(deps.store.db, limit + 1);
  return { tokens: rows.slice(0, limit).map((row) => viewOf(row, nowMs)), truncated: rows.length > limit };
}

function notFound(id: string): VigoError {
  return new VigoError(
    'enroll.token_not_found',
    `no enrollment token has the id ${JSON.stringify(id.slice(0, 100))}; "vigocli enroll token list" shows the ids`,
    {},
  );
}

/** Revokes a token; revoking one already revoked changes nothing and returns it as it is. */
export function revokeToken(deps: TokenAdminDeps, ctx: Ctx, id: string): EnrollTokenView {
  if (!isEnrollTokenId(id)) throw notFound(id);
  const nowMs = deps.nowMs();
  const { record, changed } = deps.store.tx((db) => {
    const found = findToken(db, id);
    if (found === undefined) throw notFound(id);
    if (!markTokenRevoked(db, id, nowMs)) return { record: found, changed: false };
    appendAudit(db, {
      actor: actorName(ctx.actor),
      action: 'enroll_token.revoked',
      target: `enroll-token:${id}`,
      at: nowMs,
      details: { usesCount: found.usesCount, usesAllowed: found.usesAllowed },
    });
    return { record: { ...found, revokedAtMs: nowMs }, changed: true };
  });
  if (changed) ctx.log.info('enrollment token revoked', { tokenId: id });
  return viewOf(record, nowMs);
}
