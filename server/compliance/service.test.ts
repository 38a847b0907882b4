import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../test/helpers/deadline.ts';
import { compile, enroll, harness, openFixture, removeTempDirs, result, tempDir } from './testing.ts';

after(removeTempDirs);

describe('compliance service', () => {
  it('moves a control enforced → failing → waived → failing when the waiver expires, and survives a restart', async () => {
    const file = path.join(tempDir(), 'vigo.db');
    const setup = openFixture(file);
    const envoyId = enroll(setup, 'web-1.example.com');
    setup.close();
    const clock = { now: Date.UTC(2027, 0, 1) };
    const h = harness(file, clock);
    h.service.activate(await compile(undefined));
    await h.service.settled();

    const before = h.service.envoy(envoyId)!;
    assert.deepEqual(
      before.frameworks.map((f) => [f.framework, f.claimed, f.pending]),
      [
        ['cis', 2, 2],
        ['nist-800-53', 1, 1],
      ],
      'claimed, nothing reported yet',
    );

    await h.submit({
      runId: 'r1',
      envoyId,
      startedAtMs: 1000,
      dryRun: false,
      results: [result('base', 'none'), result('nginx', 'updated')],
    });
    const cis = (): { state: string; control: string }[] =>
      h.service
        .envoy(envoyId)!
        .frameworks.find((f) => f.framework === 'cis')!
        .controls.map((c) => ({
          control: c.control,
          state: c.state,
        }));
    assert.deepEqual(cis(), [
      { control: '1.1.1', state: 'enforced' },
      { control: '5.2', state: 'enforced' },
    ]);
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 100);

    await h.submit({
      runId: 'r2',
      envoyId,
      startedAtMs: 2000,
      dryRun: false,
      results: [result('base', 'none'), result('nginx', 'failed')],
    });
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 50);
    assert.equal(h.service.tally.summary('cis')!.failingEnvoys, 1);
    assert.equal(h.service.envoy(envoyId)!.risk.terms.failing, 33.3, '50 × 1 failing of 3 claimed');

    // A dry run and a late delivery of an older run change nothing.
    await h.submit({
      runId: 'dry',
      envoyId,
      startedAtMs: 3000,
      dryRun: true,
      results: [result('nginx', 'none')],
    });
    await h.submit({
      runId: 'late',
      envoyId,
      startedAtMs: 1500,
      dryRun: false,
      results: [result('nginx', 'none')],
    });
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });

    // Due 50 real milliseconds from now: the expiry timer runs on real time, the clock below is the test's.
    const expiresAtMs = clock.now + 50;
    h.service.activate(await compile(new Date(expiresAtMs).toISOString()));
    await h.service.settled();
    assert.deepEqual(cis()[1], { control: '5.2', state: 'waived' });
    assert.equal(h.service.tally.summary('cis')!.coveragePct, 100);
    assert.deepEqual(
      h.service.waivers().map((w) => [w.control, w.expired, w.envoys]),
      [['5.2', false, 1]],
    );
    assert.equal(h.events.length, 0);

    clock.now = expiresAtMs + 1;
    await waitFor('the waiver_expired event', () => (h.events.length > 0 ? true : undefined));
    await h.service.settled();
    assert.deepEqual(cis()[1], { control: '5.2', state: 'failing' });
    assert.deepEqual(
      h.service.waivers().map((w) => [w.control, w.expired, w.envoys]),
      [['5.2', true, 0]],
    );
    assert.equal(h.events[0]!.data['control'], '5.2');
    const answer = JSON.stringify(h.service.envoy(envoyId));
    const snapshot = h.service.snapshot();
    h.close();

    // A restart reads the stored outcomes and the announced expiry: the same answers, no second event.
    const again = harness(file, clock);
    again.service.activate(snapshot);
    await again.service.settled();
    assert.equal(JSON.stringify(again.service.envoy(envoyId)), answer);
    assert.equal(again.events.length, 0);
    again.close();
  });
});
