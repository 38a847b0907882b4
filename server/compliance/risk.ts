/**
 * The risk score of an envoy, 0 (no known risk) to 100. A sum of capped terms, so each term can be read on
 * its own; docs/compliance.md "Risk score" documents the same formula, and the API returns it beside the
 * score.
 */
import type { DriftLevel, Reachability } from '../convergence/index.ts';

export const riskWeights = {
  /** × failing / claimed controls over every framework. */
  failing: 50,
  drift: { none: 0, changed: 8, diverged: 15 } satisfies Record<DriftLevel, number>,
  staleness: { online: 0, stale: 10, offline: 20 } satisfies Record<Reachability, number>,
  /** Per active waiver matching the envoy, up to `waiversMax`. */
  perWaiver: 2,
  waiversMax: 10,
  /**
   * Per pending security update reported in traits, up to `securityUpdatesMax`. The reference agent's
   * traits carry no pending-update count, so this term is 0 for its envoys.
   */
  perSecurityUpdate: 1,
  securityUpdatesMax: 5,
} as const;

export const riskFormula =
  'risk = 50 × failing/claimed controls + drift (none 0, changed 8, diverged 15) + staleness (online 0, ' +
  'stale 10, offline 20) + min(10, 2 × active waivers) + min(5, pending security updates); 0–100';

export interface RiskInput {
  readonly claimed: number;
  readonly failing: number;
  readonly drift: DriftLevel;
  readonly reachability: Reachability;
  readonly activeWaivers: number;
  /** Undefined when the envoy's traits do not report it. */
  readonly pendingSecurityUpdates: number | undefined;
}

export interface RiskTerms {
  readonly failing: number;
  readonly drift: number;
  readonly staleness: number;
  readonly waivers: number;
  readonly securityUpdates: number;
}

export interface RiskScore {
  readonly score: number;
  readonly terms: RiskTerms;
  readonly formula: string;
}

const oneDecimal = (n: number): number => Math.round(n * 10) / 10;

export function riskScore(input: RiskInput): RiskScore {
  const terms: RiskTerms = {
    failing: input.claimed === 0 ? 0 : oneDecimal((riskWeights.failing * input.failing) / input.claimed),
    drift: riskWeights.drift[input.drift],
    staleness: riskWeights.staleness[input.reachability],
    waivers: Math.min(riskWeights.waiversMax, riskWeights.perWaiver * input.activeWaivers),
    securityUpdates: Math.min(
      riskWeights.securityUpdatesMax,
      riskWeights.perSecurityUpdate * (input.pendingSecurityUpdates ?? 0),
    ),
  };
  const sum = terms.failing + terms.drift + terms.staleness + terms.waivers + terms.securityUpdates;
  return { score: Math.min(100, oneDecimal(sum)), terms, formula: riskFormula };
}
