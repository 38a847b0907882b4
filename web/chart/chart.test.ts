import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barLimits, stackedBarChart } from './bars.ts';
import { donutChart, donutLimits } from './donut.ts';

describe('donut chart', () => {
  it('draws one titled arc per non-empty slice, states every number as text, and links slices', () => {
    const svg = donutChart({
      name: 'states',
      label: 'Envoys by state',
      slices: [
        { key: 'healthy', label: 'healthy', value: 3, colour: '#0a0' },
        { key: 'failing', label: 'failing', value: 1, colour: '#a00', href: '/envoys?status=failing' },
        { key: 'stale', label: 'stale', value: 0, colour: '#aa0' },
      ],
    }).text;
    assert.equal([...svg.matchAll(/data-slice="/g)].length, 2, 'empty slices draw nothing');
    assert.match(svg, /<title>failing: 1 of 4<\/title>/);
    assert.match(svg, /aria-label="Envoys by state: 3 healthy, 1 failing, 0 stale"/);
    assert.match(
      svg,
      /<a href="\/envoys\?status=failing">failing <strong class="legend-count">1<\/strong><\/a>/,
    );
    const arcs = [...svg.matchAll(/stroke-dasharray="([\d.]+) /g)].map((m) => Number(m[1]));
    assert.ok(Math.abs((arcs[0] ?? 0) - 3 * (arcs[1] ?? 0)) < 0.1, 'arcs in proportion to the values');
  });

  it('is bounded in slices and escapes labels', () => {
    const slices = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      label: '<script>x</script>',
      value: 1,
      colour: '#000',
    }));
    const svg = donutChart({ name: 'n', label: 'l', slices }).text;
    assert.equal([...svg.matchAll(/data-legend="/g)].length, donutLimits.slices);
    assert.equal(svg.includes('<script>'), false);
  });
});

describe('stacked bar chart', () => {
  const series = [
    { key: 'a', label: 'no change', colour: '#999' },
    { key: 'b', label: 'bundle', colour: '#00f' },
  ];
  it('stacks each bar, titles it with its counts and labels total and peak', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0);
    const svg = stackedBarChart({
      name: 'rate',
      label: 'Check-ins per minute',
      unit: 'check-ins',
      series,
      bars: [
        { atMs: t0, values: [2, 1] },
        { atMs: t0 + 60_000, values: [0, 0] },
        { atMs: t0 + 120_000, values: [4, 2] },
      ],
    }).text;
    assert.match(svg, /aria-label="Check-ins per minute: 9 check-ins in 3 minutes, at most 6 in one"/);
    assert.match(svg, /<title>10:02 UTC: 4 no change, 2 bundle<\/title>/);
    assert.deepEqual(
      [...svg.matchAll(/data-total="(\d+)"/g)].map((m) => m[1]),
      ['3', '0', '6'],
    );
  });

  it('draws at most barLimits.bars bars, the newest', () => {
    const bars = Array.from({ length: 500 }, (_, i) => ({ atMs: i * 60_000, values: [1, 0] }));
    const svg = stackedBarChart({ name: 'r', label: 'l', unit: 'u', series, bars }).text;
    const drawn = [...svg.matchAll(/data-bar="(\d+)"/g)].map((m) => Number(m[1]));
    assert.equal(drawn.length, barLimits.bars);
    assert.equal(drawn.at(-1), 499 * 60_000);
  });
});
