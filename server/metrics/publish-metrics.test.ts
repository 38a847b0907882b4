import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { VigoError } from '../core/index.ts';
import { createPublishMetrics, outcomeOfError, publishOutcomes } from './publish-metrics.ts';

describe('publish metrics', () => {
  it('tells invalid stacks from refusals and internal failures', () => {
    assert.equal(outcomeOfError(new VigoError('publish.stacks_invalid', 'x')), 'invalid');
    assert.equal(outcomeOfError(new VigoError('publish.upload_invalid', 'x')), 'invalid');
    assert.equal(outcomeOfError(new VigoError('publish.frozen', 'x')), 'refused');
    assert.equal(outcomeOfError(new VigoError('publish.validator_busy', 'x')), 'refused');
    assert.equal(outcomeOfError(new VigoError('internal', 'x')), 'failed');
    assert.equal(outcomeOfError(new Error('boom')), 'failed');
  });

  it('starts every outcome at zero and follows the active version', async () => {
    const registry = new Registry();
    const metrics = createPublishMetrics(registry);
    metrics.activated(7, 1_800_000_000_000);
    const text = await registry.metrics();
    for (const outcome of publishOutcomes)
      assert.match(text, new RegExp(`^vigo_publishes_total\\{outcome="${outcome}"\\} 0$`, 'm'));
    assert.match(text, /^vigo_config_version 7$/m);
    assert.match(text, /^vigo_config_last_publish_timestamp_seconds 1800000000$/m);
  });
});
