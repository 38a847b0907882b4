import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConvergenceHistoryItem } from '../server/convergence/index.ts';
import { chartLimits, envoyConvergenceChart, fleetConvergenceChart } from './convergence-chart.ts';

function item(
  seq: number,
  atMs: number,
  status: ConvergenceHistoryItem['status'],
  drift: ConvergenceHistoryItem['drift'] = 'none',
): ConvergenceHistoryItem {
  return {
    seq,
    at: new Date(atMs).toISOString(),
    cause: 'run',
    runId: `r${seq}`,
    fromStatus: 'no_data',
    status,
    fromDrift: 'none',
    drift,
    fromReachability: null,
    reachability: null,
    changedStreak: 0,
  };
}

const rects = (text: string, lane: string): string[] =>
  [...(text.split(`data-lane="${lane}"`)[1]?.split('</g>')[0] ?? '').matchAll(/data-value="([a-z_]+)"/g)].map(
    (m) => m[1] ?? '',
  );

describe('convergence charts', () => {
  it('draws an envoy status and drift lanes, merging repeated values, as far as now', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const newestFirst = [
      item(3, t0 + 3000, 'failed', 'diverged'),
      item(2, t0 + 2000, 'converged', 'changed'),
      item(1, t0, 'converged'),
    ];
    const svg = envoyConvergenceChart(newestFirst, t0 + 4000).text;
    assert.deepEqual(rects(svg, 'status'), ['converged', 'failed']);
    assert.deepEqual(rects(svg, 'drift'), ['none', 'changed', 'diverged']);
    assert.match(svg, /status converged from 2026-01-01 00:00 to 2026-01-01 00:00 UTC/);
    assert.match(svg, /now failed with drift diverged/);
    assert.match(envoyConvergenceChart([], t0).text, /No convergence transitions/);
  });

  it('draws at most the bounded number of transitions', () => {
    const many = Array.from({ length: chartLimits.envoyTransitions + 50 }, (_, i) =>
      item(1000 - i, 1_000_000 - i * 1000, i % 2 === 0 ? 'failed' : 'converged'),
    );
    const svg = envoyConvergenceChart(many, 2_000_000).text;
    assert.equal(rects(svg, 'status').length, chartLimits.envoyTransitions);
    assert.match(svg, /the last 200 transitions/);
  });

  it('draws the fleet share as a line with a gap where nobody had reported', () => {
    const svg = fleetConvergenceChart([
      { atMs: 0, converged: 0, reporting: 0 },
      { atMs: 1000, converged: 1, reporting: 2 },
      { atMs: 2000, converged: 2, reporting: 2 },
      { atMs: 3000, converged: 0, reporting: 0 },
      { atMs: 4000, converged: 1, reporting: 4 },
    ]).text;
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
    assert.equal((svg.match(/<circle/g) ?? []).length, 3);
    assert.match(svg, /1 of 4 converged/);
    assert.match(svg, /now 25%/);
    assert.match(
      fleetConvergenceChart([{ atMs: 0, converged: 0, reporting: 0 }]).text,
      /No envoy has reported/,
    );
  });
});
