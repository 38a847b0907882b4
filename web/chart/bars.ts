/**
 * Stacked bars over time as inline SVG drawn on the server: one bar per bucket, one coloured segment per
 * series, a <title> per bar with every count, the peak on the axis, and an aria-label that states the
 * total and the peak. At most barLimits.bars bars are drawn (the newest), whatever the caller passes.
 */
import type { Html } from '../html.ts';
import { html } from '../html.ts';

export const barLimits = { bars: 120, series: 6 } as const;

export interface BarSeries {
  readonly key: string;
  readonly label: string;
  readonly colour: string;
}

export interface StackedBar {
  readonly atMs: number;
  /** One value per series, in the order of the series. */
  readonly values: readonly number[];
}

const width = 720;
const labelWidth = 48;
const plotHeight = 90;
const axisHeight = 16;

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

export function stackedBarChart(options: {
  readonly name: string;
  readonly label: string;
  readonly unit: string;
  readonly series: readonly BarSeries[];
  readonly bars: readonly StackedBar[];
}): Html {
  const series = options.series.slice(0, barLimits.series);
  const bars = options.bars.slice(-barLimits.bars);
  const first = bars[0];
  if (first === undefined) return html`<p class="muted">Nothing to show yet.</p>`;
  const totals = bars.map((b) => series.reduce((n, _, i) => n + Math.max(0, b.values[i] ?? 0), 0));
  const peak = Math.max(0, ...totals);
  const total = totals.reduce((n, t) => n + t, 0);
  const scale = peak === 0 ? 0 : plotHeight / peak;
  const slot = (width - labelWidth) / bars.length;
  const barWidth = Math.max(1, slot * 0.8);
  const height = plotHeight + axisHeight + 4;
  return html`<figure class="chart" data-chart="${options.name}" style="margin: 0">
    <svg
      viewBox="0 0 ${width} ${height}"
      width="100%"
      role="img"
      aria-label="${options.label}: ${total} ${options.unit} in ${bars.length} minutes, at most ${peak} in one"
    >
      <line
        x1="${labelWidth}"
        x2="${width}"
        y1="${plotHeight + 2}"
        y2="${plotHeight + 2}"
        class="chart-grid"
      />
      <text x="${labelWidth - 6}" y="12" text-anchor="end" class="chart-axis">${peak}</text>
      <text x="${labelWidth - 6}" y="${plotHeight + 2}" text-anchor="end" class="chart-axis">0</text>
      ${bars.map((bar, i) => {
        const x = labelWidth + i * slot + (slot - barWidth) / 2;
        let y = plotHeight + 2;
        const parts = series.map((s, k) => {
          const value = Math.max(0, bar.values[k] ?? 0);
          const h = value * scale;
          y -= h;
          return value === 0
            ? ''
            : html`<rect
                x="${x.toFixed(1)}"
                y="${y.toFixed(1)}"
                width="${barWidth.toFixed(1)}"
                height="${h.toFixed(1)}"
                fill="${s.colour}"
              />`;
        });
        const counts = series.map((s, k) => `${bar.values[k] ?? 0} ${s.label}`).join(', ');
        return html`<g data-bar="${bar.atMs}" data-total="${totals[i] ?? 0}">
          <title>${hhmm(bar.atMs)} UTC: ${counts}</title>
          <rect
            x="${x.toFixed(1)}"
            y="2"
            width="${barWidth.toFixed(1)}"
            height="${plotHeight}"
            fill="transparent"
          />
          ${parts}
        </g>`;
      })}
      <text x="${labelWidth}" y="${height - 2}" class="chart-axis">${hhmm(first.atMs)} UTC</text>
      <text x="${width}" y="${height - 2}" text-anchor="end" class="chart-axis">now</text>
    </svg>
    <figcaption class="muted small">
      ${series.map(
        (s) =>
          html`<span class="chart-key"
            ><svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" fill="${s.colour}" />
            </svg>
            ${s.label}</span
          > `,
      )}
    </figcaption>
  </figure>`;
}
