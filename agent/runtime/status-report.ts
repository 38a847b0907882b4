/**
 * `vigo status`: the cached bundle, queued results and the last run, read from the state directory
 * without contacting the server. Exit 0 when a valid bundle is held, 3 when none is (never fetched
 * yet, expired or refused), which `vigo status` explains in words; an unenrolled host is exit 4.
 */
import { BundleCache } from './bundle-cache.ts';
import { ResultsQueue } from './results-queue.ts';
import { loadIdentity, readStatus } from './state-dir.ts';
import type { StatePaths } from './state-dir.ts';

export interface StatusOutput {
  readonly stdout: string;
  /** 0 a valid bundle is held; 3 none is. */
  readonly code: 0 | 3;
}

function explain(state: 'none' | 'expired' | 'invalid', neverRun: boolean): string {
  if (state === 'none')
    return neverRun
      ? 'this host has not checked in since it enrolled, so it holds no policy yet; ' +
          '"vigo run --once" (or the vigo service) fetches and applies it'
      : 'no policy bundle is held: the server has not sent one yet';
  if (state === 'expired')
    return 'the cached bundle expired: nothing is enforced until the agent reaches the server again';
  return 'the cached bundle was refused and is not applied; the next check-in replaces it';
}

export function statusReport(paths: StatePaths, json: boolean, nowMs = Date.now()): StatusOutput {
  const { identity } = loadIdentity(paths);
  const cached = new BundleCache(paths.bundleFile, identity.bundlePublicKey).read(nowMs);
  const queued = new ResultsQueue(paths.queueDir).size();
  const last = readStatus(paths) ?? null;
  const bundle =
    cached.state === 'valid' || cached.state === 'expired'
      ? {
          state: cached.state,
          policyVersion: cached.document.policy_version,
          entryId: cached.document.entry_id,
          resources: cached.document.resources.length,
          expiresAt:
            cached.document.expires_at_ms === 0
              ? null
              : new Date(cached.document.expires_at_ms).toISOString(),
          receivedAt: new Date(cached.receivedAtMs).toISOString(),
        }
      : { state: cached.state, reason: cached.state === 'invalid' ? cached.reason : null };
  const explanation = cached.state === 'valid' ? null : explain(cached.state, last === null);
  const code = cached.state === 'valid' ? 0 : 3;
  const report = {
    envoyId: identity.envoyId,
    hostname: identity.hostname,
    server: identity.grpcAddress,
    bundle,
    queuedRuns: queued,
    lastRun: last,
    explanation,
  };
  if (json) return { stdout: `${JSON.stringify(report, null, 2)}\n`, code };
  const lines = [
    `envoy:        ${identity.envoyId} (${identity.hostname})`,
    `server:       ${identity.grpcAddress}`,
    'policyVersion' in bundle
      ? `bundle:       version ${bundle.policyVersion}, ${bundle.resources} resources, ${bundle.state}${bundle.expiresAt ? `, expires ${bundle.expiresAt}` : ''}`
      : `bundle:       ${bundle.state}${bundle.reason ? ` (${bundle.reason})` : ''}`,
    `queued runs:  ${queued}`,
    last === null
      ? 'last run:     never'
      : `last run:     ${new Date(last.finishedAtMs).toISOString()} from ${last.bundleSource}: ${
          last.blockedReason ??
          Object.entries(last.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')
        }`,
    ...(explanation === null ? [] : [`note:         ${explanation} (exit status 3)`]),
  ];
  return { stdout: `${lines.join('\n')}\n`, code };
}
