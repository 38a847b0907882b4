/**
 * Convergence history as inline SVG, drawn on the server (no chart library, no script): an envoy's status
 * and drift over time as two coloured lanes, and the fleet's converged share over time as a line. Every
 * shape carries a <title> (a tooltip, and what a screen reader reads), and both charts are bounded in the
 * points they draw, whatever the history holds.
 */
import type {
  ConvergenceHistoryItem,
  ConvergenceStatus,
  DriftLevel,
  FleetConvergencePoint,
} from '../server/convergence/index.ts';
import type { Html } from './html.ts';
import { html } from './html.ts';

export const chartLimits = {
  /** Transitions an envoy's chart reads (newest first); older ones fall off its left edge. */
  envoyTransitions: 200,
  /** Points of the fleet chart, and the window they cover. */
  fleetBuckets: 48,
  fleetWindowMs: 24 * 60 * 60 * 1000,
} as const;

const width = 720;
const labelWidth = 70;
const laneHeight = 18;
const laneGap = 6;
const axisHeight = 16;

const statusColours: Readonly<Record<ConvergenceStatus, string>> = {
  converged: '#2e7d32',
  degraded: '#ed8f03',
  failed: '#c62828',
  no_data: '#9e9e9e',
};
const driftColours: Readonly<Record<DriftLevel, string>> = {
  none: '#b0bec5',
  changed: '#ed8f03',
  diverged: '#c62828',
};

const shortTime = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

interface Segment<V extends string> {
  readonly fromMs: number;
  readonly toMs: number;
  readonly value: V;
}

/** Consecutive spans of one value, from transitions oldest first, each lasting until the next (or now). */
function segments<V extends string>(
  oldestFirst: readonly ConvergenceHistoryItem[],
  valueOf: (item: ConvergenceHistoryItem) => V,
  nowMs: number,
): Segment<V>[] {
  const out: Segment<V>[] = [];
  oldestFirst.forEach((item, i) => {
    const fromMs = Date.parse(item.at);
    const next = oldestFirst[i + 1];
    const toMs = next === undefined ? nowMs : Date.parse(next.at);
    const value = valueOf(item);
    const last = out.at(-1);
    if (last !== undefined && last.value === value) out[out.length - 1] = { ...last, toMs };
    else out.push({ fromMs, toMs, value });
  });
  return out;
}

function lane<V extends string>(
  name: string,
  y: number,
  spans: readonly Segment<V>[],
  colours: Readonly<Record<V, string>>,
  x: (ms: number) => number,
): Html {
  return html`<g class="chart-lane" data-lane="${name}">
    <text x="0" y="${y + laneHeight - 5}" class="chart-label">${name}</text>
    ${spans.map((s) => {
      const left = x(s.fromMs);
      const w = Math.max(1, x(s.toMs) - left);
      return html`<rect
        x="${left.toFixed(1)}"
        y="${y}"
        width="${w.toFixed(1)}"
        height="${laneHeight}"
        fill="${colours[s.value]}"
        data-value="${s.value}"
        ><title>${name} ${s.value} from ${shortTime(s.fromMs)} to ${shortTime(s.toMs)} UTC</title></rect
      >`;
    })}
  </g>`;
}

/** An envoy's status and drift lanes from its newest-first transitions; a note when there are none. */
export function envoyConvergenceChart(newestFirst: readonly ConvergenceHistoryItem[], nowMs: number): Html {
  const shown = newestFirst.slice(0, chartLimits.envoyTransitions).reverse();
  const first = shown[0];
  if (first === undefined) return html`<p class="muted">No convergence transitions recorded yet.</p>`;
  const startMs = Date.parse(first.at);
  const spanMs = Math.max(1, nowMs - startMs);
  const x = (ms: number): number => labelWidth + ((ms - startMs) / spanMs) * (width - labelWidth);
  const height = 2 * laneHeight + laneGap + axisHeight;
  const status = segments(shown, (i) => i.status, nowMs);
  const drift = segments(shown, (i) => i.drift, nowMs);
  const current = shown.at(-1) ?? first;
  return html`<figure class="chart" data-chart="envoy-convergence">
    <svg
      viewBox="0 0 ${width} ${height}"
      width="100%"
      role="img"
      aria-label="Status and drift from ${shortTime(startMs)} UTC to now: ${status.length} status spans, now ${current.status} with drift ${current.drift}"
    >
      ${lane('status', 0, status, statusColours, x)}
      ${lane('drift', laneHeight + laneGap, drift, driftColours, x)}
      <text x="${labelWidth}" y="${height - 3}" class="chart-axis">${shortTime(startMs)}</text>
      <text x="${width}" y="${height - 3}" text-anchor="end" class="chart-axis">now</text>
    </svg>
    <figcaption class="muted small">
      ${legend(statusColours)} · drift ${legend(driftColours)}
      ${newestFirst.length > chartLimits.envoyTransitions ? html` · the last ${chartLimits.envoyTransitions} transitions` : ''}
    </figcaption>
  </figure>`;
}

function legend(colours: Readonly<Record<string, string>>): Html {
  return html`${Object.entries(colours).map(
    ([name, colour]) =>
      html`<span class="chart-key"
        ><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colour}" /></svg>
        ${name.replace('_', ' ')}</span
      > `,
  )}`;
}

/** The fleet's converged share as a line over the points (a gap where no envoy had reported yet). */
export function fleetConvergenceChart(points: readonly FleetConvergencePoint[]): Html {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined || points.every((p) => p.reporting === 0))
    return html`<p class="muted">No envoy has reported a run yet.</p>`;
  const plotHeight = 100;
  const height = plotHeight + axisHeight + 4;
  const spanMs = Math.max(1, last.atMs - first.atMs);
  const x = (ms: number): number => labelWidth + ((ms - first.atMs) / spanMs) * (width - labelWidth);
  const y = (pct: number): number => 2 + (1 - pct / 100) * plotHeight;
  const runs: string[][] = [[]];
  for (const p of points) {
    if (p.reporting === 0) {
      if ((runs.at(-1) ?? []).length > 0) runs.push([]);
      continue;
    }
    runs.at(-1)?.push(`${x(p.atMs).toFixed(1)},${y((p.converged / p.reporting) * 100).toFixed(1)}`);
  }
  const nowPct = last.reporting === 0 ? null : Math.round((last.converged / last.reporting) * 1000) / 10;
  return html`<figure class="chart" data-chart="fleet-convergence">
    <svg
      viewBox="0 0 ${width} ${height}"
      width="100%"
      role="img"
      aria-label="Converged share of reporting envoys from ${shortTime(first.atMs)} UTC to now${nowPct === null ? '' : `, now ${nowPct}%`}"
    >
      ${[100, 50, 0].map(
        (pct) =>
          html`<line x1="${labelWidth}" x2="${width}" y1="${y(pct)}" y2="${y(pct)}" class="chart-grid" />
            <text x="${labelWidth - 6}" y="${y(pct) + 4}" text-anchor="end" class="chart-axis"
              >${pct}%</text
            >`,
      )}
      ${runs
        .filter((run) => run.length > 0)
        .map(
          (run) =>
            html`<polyline
              points="${run.join(' ')}"
              fill="none"
              stroke="${statusColours.converged}"
              stroke-width="2"
            />`,
        )}
      ${points
        .filter((p) => p.reporting > 0)
        .map(
          (p) =>
            html`<circle
              cx="${x(p.atMs).toFixed(1)}"
              cy="${y((p.converged / p.reporting) * 100).toFixed(1)}"
              r="2.5"
              fill="${statusColours.converged}"
              data-point="${p.atMs}"
              ><title>${shortTime(p.atMs)} UTC: ${p.converged} of ${p.reporting} converged</title></circle
            >`,
        )}
      <text x="${labelWidth}" y="${height - 2}" class="chart-axis">${shortTime(first.atMs)}</text>
      <text x="${width}" y="${height - 2}" text-anchor="end" class="chart-axis">now</text>
    </svg>
  </figure>`;
}
