/**
 * A donut of parts of a whole as inline SVG drawn on the server: one arc per non-empty slice (a circle's
 * stroke, dashed to the slice's share), each with a <title> and, when given, a link; beside it a legend
 * that states every number as text, so the figure reads without colour or a pointer. At most
 * donutLimits.slices slices are drawn, whatever the caller passes.
 */
import type { Html } from '../html.ts';
import { html } from '../html.ts';

export const donutLimits = { slices: 12 } as const;

export interface DonutSlice {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly colour: string;
  /** Where the slice and its legend entry lead (a filtered list). */
  readonly href?: string;
}

const size = 120;
const radius = 46;
const strokeWidth = 18;
const circumference = 2 * Math.PI * radius;

function link(href: string | undefined, body: Html): Html {
  return href === undefined ? body : html`<a href="${href}">${body}</a>`;
}

export function donutChart(options: {
  readonly name: string;
  readonly label: string;
  readonly slices: readonly DonutSlice[];
  /** The figure in the middle (the whole, by default). */
  readonly centre?: string;
}): Html {
  const slices = options.slices
    .slice(0, donutLimits.slices)
    .map((s) => ({ ...s, value: Math.max(0, s.value) }));
  const total = slices.reduce((n, s) => n + s.value, 0);
  let offset = 0;
  const arcs = slices
    .filter((s) => s.value > 0)
    .map((s) => {
      const length = (s.value / total) * circumference;
      const arc = html`<circle
        cx="${size / 2}"
        cy="${size / 2}"
        r="${radius}"
        fill="none"
        stroke="${s.colour}"
        stroke-width="${strokeWidth}"
        stroke-dasharray="${length.toFixed(2)} ${(circumference - length).toFixed(2)}"
        stroke-dashoffset="${(-offset).toFixed(2)}"
        data-slice="${s.key}"
        ><title>${s.label}: ${s.value} of ${total}</title></circle
      >`;
      offset += length;
      return link(s.href, arc);
    });
  const summary = slices.map((s) => `${s.value} ${s.label}`).join(', ');
  return html`<figure
    class="chart chart-donut"
    data-chart="${options.name}"
    style="display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 0"
  >
    <svg
      viewBox="0 0 ${size} ${size}"
      width="${size}"
      height="${size}"
      role="img"
      aria-label="${options.label}: ${total === 0 ? 'none' : summary}"
      style="flex: none"
    >
      <g transform="rotate(-90 ${size / 2} ${size / 2})">
        <circle
          cx="${size / 2}"
          cy="${size / 2}"
          r="${radius}"
          fill="none"
          stroke="#9e9e9e33"
          stroke-width="${strokeWidth}"
        />
        ${arcs}
      </g>
      <text
        x="${size / 2}"
        y="${size / 2 + 6}"
        text-anchor="middle"
        class="chart-total"
        style="font-size: 18px; fill: currentColor"
      >
        ${options.centre ?? String(total)}
      </text>
    </svg>
    <figcaption>
      <ul class="chart-legend" style="list-style: none; margin: 0; padding: 0">
        ${slices.map(
          (s) =>
            html`<li data-legend="${s.key}">
              <svg width="10" height="10" aria-hidden="true">
                <rect width="10" height="10" fill="${s.colour}" />
              </svg>
              ${link(s.href, html`${s.label} <strong class="legend-count">${s.value}</strong>`)}
            </li>`,
        )}
      </ul>
    </figcaption>
  </figure>`;
}
