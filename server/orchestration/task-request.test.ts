import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { parseTaskRequest, taskLimits } from './task-request.ts';

function refused(body: Record<string, unknown>, field: string, pattern?: RegExp): void {
  assert.throws(
    () => parseTaskRequest(body),
    (err) =>
      isVigoError(err) &&
      err.code === 'task.invalid' &&
      err.details['field'] === field &&
      (pattern === undefined || pattern.test(err.message)),
    JSON.stringify(body).slice(0, 200),
  );
}

const base = { command: 'uptime', targets: ['web-*'] };

describe('parseTaskRequest', () => {
  it('applies the defaults Vigo has', () => {
    const request = parseTaskRequest(base);
    assert.deepEqual(request.action, { kind: 'command', command: 'uptime' });
    assert.equal(request.timeoutSeconds, undefined, 'the named task or the server default decides');
    assert.equal(request.nice, undefined);
    assert.equal(request.expiresMs, taskLimits.defaultExpiresMs);
    assert.deepEqual(request.rollout, { pauseSeconds: 0 });
    assert.equal(request.dryRun, false);
    assert.equal(request.force, false);
  });

  it("reads Vigo's body: target string, string amounts, a health-check command, empty taskName", () => {
    const request = parseTaskRequest({
      command: 'uptime',
      target: '*.web.*',
      operator: 'admin',
      timeout: 30,
      nice: 5,
      batchSize: '25%',
      maxFailures: '3',
      healthCheck: 'curl -sf http://localhost/health',
      dryRun: false,
      taskName: '',
      params: {},
      force: false,
    });
    assert.deepEqual(request.targets, ['*.web.*']);
    assert.equal(request.operatorLabel, 'admin');
    assert.deepEqual(request.rollout.batchSize, { kind: 'percent', value: 25 });
    assert.deepEqual(request.rollout.maxFailures, { kind: 'count', value: 3 });
    assert.deepEqual(request.rollout.healthCheck, {
      kind: 'command',
      command: 'curl -sf http://localhost/health',
      timeoutSeconds: 10,
    });
  });

  it('reads a named task with parameters, keeping their JSON types for binding', () => {
    const request = parseTaskRequest({
      taskName: 'restart-nginx',
      params: { graceful: true, wait: 5 },
      targets: ['a'],
    });
    assert.deepEqual(request.action, {
      kind: 'named',
      taskName: 'restart-nginx',
      params: { graceful: true, wait: 5 },
    });
  });

  it('reads the native rolling settings', () => {
    const request = parseTaskRequest({
      ...base,
      where: ['os.family=debian'],
      batchSize: 2,
      maxFailures: '10%',
      canary: 1,
      healthCheck: { url: 'https://lb.example/health', timeoutSeconds: 3 },
      pauseSeconds: 10,
      expires: '30m',
    });
    assert.deepEqual(request.rollout, {
      batchSize: { kind: 'count', value: 2 },
      maxFailures: { kind: 'percent', value: 10 },
      canary: 1,
      healthCheck: { kind: 'url', url: 'https://lb.example/health', timeoutSeconds: 3 },
      pauseSeconds: 10,
    });
    assert.equal(request.expiresMs, 1_800_000);
  });

  it('refuses a missing or doubled action', () => {
    refused({ targets: ['a'] }, 'command');
    refused({ command: '  ', targets: ['a'] }, 'command');
    refused({ command: 'x', taskName: 'y', targets: ['a'] }, 'command', /not both/);
    refused({ command: 'x', params: { a: '1' }, targets: ['a'] }, 'params', /named task/);
    refused({ taskName: 'bad name!', targets: ['a'] }, 'taskName');
  });

  it('refuses wrong types and values out of bounds', () => {
    refused({ ...base, timeout: '60' }, 'timeout', /whole number/);
    refused({ ...base, timeout: 0 }, 'timeout');
    refused({ ...base, timeout: taskLimits.maxTimeoutSeconds + 1 }, 'timeout');
    refused({ ...base, nice: 20 }, 'nice');
    refused({ ...base, nice: -1 }, 'nice');
    refused({ ...base, canary: 0 }, 'canary');
    refused({ ...base, pauseSeconds: 3601 }, 'pauseSeconds');
    refused({ ...base, dryRun: 'yes' }, 'dryRun');
    refused({ ...base, expires: '1y' }, 'expires');
    refused({ ...base, expires: '1s' }, 'expires', /10s to 7d/);
    refused({ ...base, batchSize: '0%' }, 'batchSize');
    refused({ ...base, maxFailures: [] }, 'maxFailures');
    refused({ taskName: 't', targets: ['a'], params: [] }, 'params');
    refused({ taskName: 't', targets: ['a'], params: { a: { deep: 1 } } }, 'params.a');
    refused({ taskName: 't', targets: ['a'], params: { a: null } }, 'params.a');
    refused({ command: 'x', targets: 'web-*' }, 'targets', /array/);
    refused({ command: 'x', targets: [1] }, 'targets[0]');
    refused({ command: 'x' }, 'targets', /at least one/);
    refused({ command: 'x'.repeat(taskLimits.maxCommandBytes + 1), targets: ['a'] }, 'command');
  });

  it('refuses malformed health checks', () => {
    refused({ ...base, healthCheck: { url: 'ftp://x/' } }, 'healthCheck.url', /http or https/);
    refused({ ...base, healthCheck: { url: 'not a url' } }, 'healthCheck.url');
    refused({ ...base, healthCheck: { url: 'http://x/', command: 'true' } }, 'healthCheck', /exactly one/);
    refused({ ...base, healthCheck: {} }, 'healthCheck', /exactly one/);
    refused(
      { ...base, healthCheck: { url: 'http://x/', retries: 3 } },
      'healthCheck',
      /unknown field "retries"/,
    );
    refused({ ...base, healthCheck: { command: 'true', timeoutSeconds: 0 } }, 'healthCheck.timeoutSeconds');
    refused({ ...base, healthCheck: 5 }, 'healthCheck');
  });
});
