/**
 * Enrollment: a host trades a valid token, its hostname, its ed25519 signing key and a CSR for an
 * envoy id and a client certificate.
 *
 * The bcrypt comparison and the CSR signing are slow and asynchronous, so they run before the write
 * transaction; the transaction then re-reads the token and the hostname's envoy and re-checks
 * everything it relies on. Two enrollments racing for a token's last use therefore both pass the
 * early checks, but only the first to commit gets the use; the other fails with `enroll.token_used_up`.
 */
import { createHash, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import { appendAudit } from '../audit/index.ts';
import type { Logger } from '../core/index.ts';
import { VigoError } from '../core/index.ts';
import type { IssuedEnvoyCert, Pki } from '../pki/index.ts';
import type { Store } from '../store/index.ts';
import { bundleKeyId, ed25519KeyProblem, publicKeyFromRaw } from '../../protocol/index.ts';
import { findActiveEnvoy, insertEnvoy, rekeyEnvoy } from './envoy-store.ts';
import type { ActiveEnvoy, EnvoyKeys } from './envoy-store.ts';
import { compileGlobs } from './glob.ts';
import { normalizeHostname } from './hostname.ts';
import { consumeTokenUse, findToken } from './token-store.ts';
import type { EnrollTokenRecord } from './token-store.ts';
import { parseEnrollToken } from './token-secret.ts';
import type { EnrollTokenParts } from './token-secret.ts';

export interface EnrollInput {
  readonly token: string;
  readonly hostname: string;
  /** The agent's ed25519 request-signing key: base64 of the raw 32 bytes. */
  readonly publicKey: string;
  /** PKCS#10 CSR (PEM) for the agent's TLS client key. */
  readonly csr: string;
}

export interface EnrollResult {
  readonly envoyId: string;
  readonly hostname: string;
  readonly clientCertPem: string;
  readonly caCertPem: string;
  /** The server's bundle-signing key, base64 of the raw 32 bytes: agents pin it. */
  readonly bundlePublicKey: string;
  readonly bundleKeyId: string;
  /** host:port of the gRPC listener agents check in with. */
  readonly grpcAddress: string;
  readonly reenrolled: boolean;
}

export interface EnrolledEnvoy {
  readonly id: string;
  readonly hostname: string;
  readonly publicKeyRaw: Buffer;
  readonly certFingerprint: string;
  readonly enrolledAtMs: number;
  readonly reenrolled: boolean;
}

export type EnrollPki = Pick<Pki, 'signEnvoyCsr' | 'caCertPem' | 'bundlePublicKeyRaw'>;

export interface EnrollUseCaseDeps {
  readonly store: Store;
  readonly pki: EnrollPki;
  readonly grpcAddress: string;
  readonly nowMs: () => number;
  /** A bcrypt hash of nothing in particular, compared against when a token id is unknown. */
  readonly decoyHash: () => Promise<string>;
  readonly onEnrolled?: (envoy: EnrolledEnvoy) => void;
}

const ed25519RawBytes = 32;
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

function tokenInvalid(problem: string): VigoError {
  return new VigoError(
    'enroll.token_invalid',
    `enrollment token refused: ${problem}. Ask an admin for a new token ("vigocli enroll token create").`,
    {},
  );
}

/**
 * The raw key bytes, or throws `enroll.key_invalid`: besides its form, the key must be a canonical point of
 * the curve outside the small-order subgroup, or a signature forged without any private key would verify.
 */
export function parseAgentPublicKey(text: string): Buffer {
  const fail = (problem: string, cause?: unknown): VigoError =>
    new VigoError(
      'enroll.key_invalid',
      `publicKey refused: ${problem}. Send the agent's ed25519 public key as base64 of its raw 32 bytes (44 characters).`,
      {},
      { cause },
    );
  if (!base64Pattern.test(text)) throw fail('it is not base64');
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== ed25519RawBytes) throw fail(`it decodes to ${raw.length} bytes, not ${ed25519RawBytes}`);
  if (raw.toString('base64') !== text.padEnd(Math.ceil(text.length / 4) * 4, '=')) {
    throw fail('it is not canonical base64');
  }
  const problem = ed25519KeyProblem(raw);
  if (problem !== undefined) throw fail(problem);
  try {
    publicKeyFromRaw(raw);
  } catch (err) {
    throw fail('node:crypto does not accept it as an ed25519 key', err);
  }
  return raw;
}

export function keyFingerprint(publicKeyRaw: Uint8Array): string {
  return createHash('sha256').update(publicKeyRaw).digest('hex');
}

function usedUp(token: EnrollTokenRecord): VigoError {
  return new VigoError(
    'enroll.token_used_up',
    `enrollment token ${token.id} has been used ${token.usesAllowed} of ${token.usesAllowed} times; ask an admin for a new one.`,
    { tokenId: token.id },
  );
}

/** Throws the matching enroll.* error when the token cannot enroll `hostname` at `nowMs`. */
function checkTokenUsable(token: EnrollTokenRecord, hostname: string, nowMs: number): void {
  if (token.revokedAtMs !== null) {
    throw new VigoError('enroll.token_revoked', `enrollment token ${token.id} was revoked by an admin.`, {
      tokenId: token.id,
    });
  }
  if (token.expiresAtMs <= nowMs) {
    throw new VigoError(
      'enroll.token_expired',
      `enrollment token ${token.id} expired at ${new Date(token.expiresAtMs).toISOString()}; ask an admin for a new one.`,
      { tokenId: token.id },
    );
  }
  if (token.usesCount >= token.usesAllowed) throw usedUp(token);
  if (!compileGlobs(token.hostnameGlobs)(hostname)) {
    throw new VigoError(
      'enroll.hostname_not_allowed',
      `enrollment token ${token.id} may enroll hosts matching ${token.hostnameGlobs.join(', ')}, ` +
        `not "${hostname}"; use a token issued for this host name.`,
      { tokenId: token.id },
    );
  }
}

async function verifyToken(deps: EnrollUseCaseDeps, parts: EnrollTokenParts): Promise<EnrollTokenRecord> {
  const token = findToken(deps.store.db, parts.id);
  // An unknown id still costs one comparison, so timing does not tell which ids exist.
  const hash = token?.secretHash ?? (await deps.decoyHash());
  const matches = await bcrypt.compare(parts.secret, hash);
  if (token === undefined || !matches) throw tokenInvalid('it is wrong or unknown');
  return token;
}

function enrollConflict(hostname: string): VigoError {
  return new VigoError(
    'enroll.conflict',
    `another enrollment or a revocation for "${hostname}" completed while this one was in progress; ` +
      'nothing was stored, retry the enrollment.',
    {},
  );
}

interface Commit {
  readonly token: EnrollTokenRecord;
  readonly hostname: string;
  readonly existing: ActiveEnvoy | undefined;
  readonly envoy: EnvoyKeys;
  readonly cert: IssuedEnvoyCert;
  readonly sourceIp: string;
}

/** Re-checks and writes token use, envoy row and audit entry in one immediate transaction. */
function commitEnrollment(deps: EnrollUseCaseDeps, commit: Commit): void {
  const { token, hostname, existing, envoy, cert } = commit;
  deps.store.tx((db) => {
    const current = findToken(db, token.id);
    if (current === undefined) throw tokenInvalid('it no longer exists');
    checkTokenUsable(current, hostname, deps.nowMs());
    if (findActiveEnvoy(db, hostname)?.id !== existing?.id) throw enrollConflict(hostname);
    if (!consumeTokenUse(db, token.id)) throw usedUp(current);
    if (existing !== undefined && !rekeyEnvoy(db, envoy)) throw enrollConflict(hostname);
    if (existing === undefined) insertEnvoy(db, envoy);
    const newKeyFingerprint = keyFingerprint(envoy.publicKeyRaw);
    const keys =
      existing === undefined
        ? { keyFingerprint: newKeyFingerprint }
        : { oldKeyFingerprint: keyFingerprint(existing.publicKey), newKeyFingerprint };
    appendAudit(db, {
      actor: `enroll-token:${token.id}`,
      action: existing === undefined ? 'envoy.enrolled' : 'envoy.reenrolled',
      target: `envoy:${envoy.id}`,
      at: envoy.enrolledAtMs,
      details: {
        hostname,
        tokenId: token.id,
        ...keys,
        certSerial: cert.serial,
        certFingerprint: cert.fingerprintSha256,
        sourceIp: commit.sourceIp,
      },
    });
  });
}

/** Validates, checks the token, signs the CSR and records the envoy; throws a VigoError on any refusal. */
export async function enrollEnvoy(
  deps: EnrollUseCaseDeps,
  input: EnrollInput,
  sourceIp: string,
  log: Logger,
): Promise<EnrollResult> {
  const hostname = normalizeHostname(input.hostname);
  const publicKeyRaw = parseAgentPublicKey(input.publicKey);
  const parts = parseEnrollToken(input.token);
  if (parts === undefined) {
    throw tokenInvalid(
      'it is not an enrollment token (expected "vget_" + 16 hex digits + "_" + 43 characters)',
    );
  }
  const token = await verifyToken(deps, parts);
  checkTokenUsable(token, hostname, deps.nowMs());
  const existing = findActiveEnvoy(deps.store.db, hostname);
  const envoyId = existing?.id ?? randomUUID();
  const cert = await deps.pki.signEnvoyCsr({ csrPem: input.csr, envoyId });
  const envoy: EnvoyKeys = {
    id: envoyId,
    hostname,
    publicKeyRaw,
    certSerial: cert.serial,
    certFingerprint: cert.fingerprintSha256,
    enrolledAtMs: deps.nowMs(),
  };
  commitEnrollment(deps, { token, hostname, existing, envoy, cert, sourceIp });
  const reenrolled = existing !== undefined;
  log.info(reenrolled ? 'envoy re-enrolled' : 'envoy enrolled', { envoyId, hostname, tokenId: token.id });
  notifyEnrolled(deps, log, { ...envoy, reenrolled });
  return {
    envoyId,
    hostname,
    clientCertPem: cert.certPem,
    caCertPem: deps.pki.caCertPem,
    bundlePublicKey: deps.pki.bundlePublicKeyRaw.toString('base64'),
    bundleKeyId: bundleKeyId(deps.pki.bundlePublicKeyRaw),
    grpcAddress: deps.grpcAddress,
    reenrolled,
  };
}

function notifyEnrolled(
  deps: EnrollUseCaseDeps,
  log: Logger,
  envoy: EnvoyKeys & { reenrolled: boolean },
): void {
  if (deps.onEnrolled === undefined) return;
  const enrolled: EnrolledEnvoy = {
    id: envoy.id,
    hostname: envoy.hostname,
    publicKeyRaw: envoy.publicKeyRaw,
    certFingerprint: envoy.certFingerprint,
    enrolledAtMs: envoy.enrolledAtMs,
    reenrolled: envoy.reenrolled,
  };
  try {
    deps.onEnrolled(enrolled);
  } catch (err) {
    // The enrollment is committed and the agent holds nothing else; failing its reply now would only
    // leave an envoy it cannot use. The in-memory index is rebuilt from the database at boot.
    log.error('onEnrolled callback failed after a committed enrollment', { envoyId: envoy.id, err });
  }
}
