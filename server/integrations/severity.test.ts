import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventPatternProblem, globMatches, selectedTypes, severityOf } from './severity.ts';

describe('event patterns', () => {
  it('"*" matches any run of characters, dots included', () => {
    assert.ok(globMatches('*', 'envoy.failed'));
    assert.ok(globMatches('envoy.*', 'envoy.failed'));
    assert.ok(globMatches('*.failed', 'run.failed'));
    assert.ok(globMatches('*o*.f*', 'envoy.failed'));
    assert.ok(globMatches('run.failed', 'run.failed'));
    assert.ok(!globMatches('envoy.*', 'envoys'));
    assert.ok(!globMatches('run.failed', 'run.failed2'));
    assert.ok(!globMatches('a*a', 'a'));
  });

  it('a pattern must match some deliverable type and use only its characters', () => {
    assert.equal(eventPatternProblem('audit.*'), undefined);
    assert.match(eventPatternProblem('stream.gap') ?? '', /matches no event type/);
    assert.match(eventPatternProblem('Envoy.*') ?? '', /lower-case/);
  });

  it('selects by pattern and severity floor', () => {
    const critical = selectedTypes(['*'], 'critical');
    assert.deepEqual([...critical].sort(), [
      'audit.chain_broken',
      'config.auto_rolled_back',
      'convergence.threshold',
      'envoy.failed',
    ]);
    const envoyWarnings = selectedTypes(['envoy.*'], 'warning');
    assert.ok(envoyWarnings.has('envoy.stale'));
    assert.ok(!envoyWarnings.has('envoy.online'));
    assert.equal(severityOf('run.failed'), 'warning');
    assert.equal(severityOf('integration.test'), 'info');
  });
});
