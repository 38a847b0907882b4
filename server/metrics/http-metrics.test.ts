import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createHttpMetrics, methodLabel, statusClass } from './http-metrics.ts';

describe('HTTP metrics', () => {
  it('starts every route of the table at zero for each status class', async () => {
    const registry = new Registry();
    createHttpMetrics(registry, [{ method: 'GET', path: '/api/v1/envoys/{id}' }]);
    const text = await registry.metrics();
    for (const status of ['2xx', '3xx', '4xx', '5xx'])
      assert.match(
        text,
        new RegExp(
          `^vigo_http_requests_total\\{route="/api/v1/envoys/\\{id\\}",method="GET",status="${status}"\\} 0$`,
          'm',
        ),
      );
  });

  it('bounds the labels: unmatched requests share one route, unknown methods one label', async () => {
    const registry = new Registry();
    const metrics = createHttpMetrics(registry, []);
    metrics.observe(undefined, 'BREW', 404, 0.002);
    metrics.observe(undefined, 'GET', 404, 0.002);
    const text = await registry.metrics();
    assert.match(text, /^vigo_http_requests_total\{route="unmatched",method="other",status="4xx"\} 1$/m);
    assert.match(text, /^vigo_http_requests_total\{route="unmatched",method="GET",status="4xx"\} 1$/m);
    assert.match(text, /^vigo_http_request_duration_seconds_count\{route="unmatched",method="GET"\} 1$/m);
  });

  it('maps statuses to their class and methods to themselves or other', () => {
    assert.deepEqual([200, 304, 429, 503].map(statusClass), ['2xx', '3xx', '4xx', '5xx']);
    assert.deepEqual(['GET', 'DELETE', 'get', 'PROPFIND'].map(methodLabel), [
      'GET',
      'DELETE',
      'other',
      'other',
    ]);
  });
});
