import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SnapshotHistogram } from './snapshot-histogram.ts';

function histogram(): { registry: Registry; metric: SnapshotHistogram } {
  const registry = new Registry();
  const metric = new SnapshotHistogram({ name: 'x_seconds', help: 'x', buckets: [1, 5], registry });
  return { registry, metric };
}

describe('SnapshotHistogram', () => {
  it('exports an empty distribution before its first snapshot', async () => {
    const { registry } = histogram();
    assert.equal(
      await registry.metrics(),
      [
        '# HELP x_seconds x',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="1"} 0',
        'x_seconds_bucket{le="5"} 0',
        'x_seconds_bucket{le="+Inf"} 0',
        'x_seconds_sum 0',
        'x_seconds_count 0',
        '',
      ].join('\n'),
    );
  });

  it('counts a value equal to a bound in that bucket and exports cumulative counts', async () => {
    const { registry, metric } = histogram();
    const tally = metric.tally();
    for (const value of [0, 1, 1.5, 5, 9]) tally.add(value);
    metric.replace(tally.snapshot());
    const text = await registry.metrics();
    assert.match(text, /^x_seconds_bucket\{le="1"\} 2$/m);
    assert.match(text, /^x_seconds_bucket\{le="5"\} 4$/m);
    assert.match(text, /^x_seconds_bucket\{le="\+Inf"\} 5$/m);
    assert.match(text, /^x_seconds_sum 16.5$/m);
    assert.match(text, /^x_seconds_count 5$/m);
  });

  it('replaces the previous snapshot instead of adding to it', async () => {
    const { registry, metric } = histogram();
    for (const value of [2, 3]) {
      const tally = metric.tally();
      tally.add(value);
      metric.replace(tally.snapshot());
    }
    assert.match(await registry.metrics(), /^x_seconds_count 1$/m);
    const json = await registry.getMetricsAsJSON();
    assert.equal(json[0]?.type, 'histogram');
    registry.resetMetrics();
    assert.match(await registry.metrics(), /^x_seconds_count 0$/m);
  });

  it('refuses a snapshot with the wrong number of buckets', () => {
    const { metric } = histogram();
    assert.throws(() => metric.replace({ counts: [1, 2], sum: 3 }), /needs 3 bucket counts/);
  });
});
