/**
 * Golden files pin what `vigo run --once` prints (testdata/run-report/<case>.stdout and .stderr).
 * After an intended change to the output: VIGO_UPDATE_GOLDEN=1 and review the diff.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ResourceResult, RunRecord } from '../engine/index.ts';
import { oneLine, renderBlocked, renderRunJson, renderRunText, runFailed } from './run-report.ts';
import type { RenderedRun } from './run-report.ts';

const goldenDir = path.join(import.meta.dirname, 'testdata', 'run-report');
const update = process.env['VIGO_UPDATE_GOLDEN'] === '1';

function result(
  resourceId: string,
  resourceType: string,
  outcome: ResourceResult['outcome'],
  message: string,
): ResourceResult {
  return {
    resourceId,
    resourceType,
    configcrate: resourceId.split('/')[0] ?? '',
    outcome,
    message,
    durationMs: 3,
  };
}

function run(results: ResourceResult[], dryRun = false): RunRecord {
  return {
    runId: '6f1c2d9e-4b7a-4c1e-9a51-0d2f3e4a5b6c',
    policyVersion: 12,
    startedAtMs: 1_765_000_000_000,
    finishedAtMs: 1_765_000_001_234,
    dryRun,
    results,
  };
}

const converged = [
  result('motd/motd', 'file', 'none', '/etc/motd is up to date'),
  result('base/htop', 'package', 'none', 'htop 3.3.0 is installed'),
  result('web/nginx', 'service', 'skipped', 'when: os.family == "debian" is false'),
];

const changed = [
  result('motd/motd', 'file', 'updated', 'updated /etc/motd: content (120 -> 131 bytes)'),
  result('base/htop', 'package', 'created', 'installed htop 3.3.0'),
  result('base/old-tool', 'package', 'deleted', 'removed telnet'),
  result('base/sysctl', 'sysctl', 'none', 'vm.swappiness is 10'),
];

const failing = [
  result('motd/motd', 'file', 'updated', 'updated /etc/motd: content (120 -> 131 bytes)'),
  result(
    'web/nginx',
    'service',
    'failed',
    'systemctl start nginx exited 1:\nJob for nginx.service failed.\n',
  ),
  result('web/site', 'file', 'blocked', 'depends on web/nginx which failed'),
  result('base/sysctl', 'sysctl', 'none', 'vm.swappiness is 10'),
];

const wouldChange = [
  result('demo/root', 'directory', 'created', 'would create /tmp/vigo-demo: mode 0755'),
  result('demo/readme', 'file', 'created', 'would create /tmp/vigo-demo/README: 80 bytes, mode 0644'),
  result('demo/motd', 'file', 'updated', 'would update /tmp/vigo-demo/motd: content (10 -> 12 bytes)'),
];

function golden(name: string, rendered: RenderedRun): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const file = path.join(goldenDir, `${name}.${stream}`);
    if (update) fs.writeFileSync(file, rendered[stream]);
    assert.equal(rendered[stream], fs.readFileSync(file, 'utf8'), `${name}.${stream}`);
  }
}

describe('vigo run output', () => {
  it('prints a line per change and the summary', () => {
    golden('change', renderRunText(run(changed)));
    assert.equal(runFailed(run(changed)), false);
  });

  it('prints failures and blocked dependents on stderr, changes on stdout', () => {
    golden('fail', renderRunText(run(failing)));
    assert.equal(runFailed(run(failing)), true);
  });

  it('says "would" in a dry run', () => {
    golden('dry-run', renderRunText(run(wouldChange, true)));
  });

  it('prints only the summary when nothing changed', () => {
    golden('no-change', renderRunText(run(converged)));
  });

  it('prints one JSON document for machines', () => {
    const rendered = renderRunJson(run(failing), 'server');
    golden('json', rendered);
    const parsed = JSON.parse(rendered.stdout) as { counts: { failed: number }; resources: unknown[] };
    assert.equal(parsed.counts.failed, 1);
    assert.equal(parsed.resources.length, failing.length);
  });

  it('explains a run that applied nothing', () => {
    const json = JSON.parse(renderBlocked('the cached bundle expired', 'json').stdout) as {
      applied: boolean;
    };
    assert.equal(json.applied, false);
    golden(
      'blocked',
      renderBlocked('no policy bundle yet: the server has not been reached since enrollment', 'text'),
    );
  });

  it('keeps a hostile message on one line and escapes terminal control sequences', () => {
    assert.equal(oneLine('a\r\nb\n\x1b[31mred\x07'), 'a b \\u001b[31mred\\u0007');
    const line = renderRunText(run([result('x/y', 'exec', 'failed', 'out:\n\x1b]0;owned\x07')])).stderr;
    assert.equal(line.split('\n').length, 2);
    assert.equal(line.includes('\x1b'), false);
  });
});
