/**
 * Enrollments arriving all at once: the failure limit holds against concurrency (the attempt is reserved
 * before the token's bcrypt comparison), and comparisons wait in the shared, bounded bcrypt queue.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { EnrollFixture } from './enroll.fixture.ts';
import { enrollFixture, enrollInput, enrollRequest } from './enroll.fixture.ts';
import { FairQueue } from './fair-queue.ts';

let f: EnrollFixture | undefined;
afterEach(() => f?.cleanup());

/** The VigoError code a promise rejects with, or "ok". */
async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : `non-vigo: ${String(err)}`;
  }
}

function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe('concurrent enrollments', () => {
  it('from one address get at most the configured number of token guesses and bcrypt comparisons', async () => {
    const queue = new FairQueue({ concurrency: 2, maxWaiting: 1000 });
    f = await enrollFixture({ failureLimit: { maxFailures: 10, windowMs: 60_000 }, bcryptQueue: queue });
    const fx = f;
    const created = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['*.example.com'] });
    // The right token id with a wrong secret: each guess costs a real comparison.
    const guess = `${created.token.slice(0, -43)}${'A'.repeat(43)}`;
    const input = await enrollInput(guess, 'web-1.example.com');
    const codes = await Promise.all(
      Array.from({ length: 200 }, () => errorCodeOf(fx.service.enroll(enrollRequest(input, '192.0.2.77')))),
    );
    assert.deepEqual(tally(codes), { 'enroll.token_invalid': 10, rate_limited: 190 });
    assert.equal(queue.started, 10);
    assert.deepEqual(fx.counts().envoys, 0);
  });

  it('give a successful enrollment its attempt back, and refuse at once when the queue is full', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 0 });
    f = await enrollFixture({ failureLimit: { maxFailures: 1, windowMs: 60_000 }, bcryptQueue: queue });
    const fx = f;
    const created = await fx.service.createToken(fx.adminCtx, { hostnameGlobs: ['*.example.com'], uses: 5 });
    for (const host of ['a', 'b']) {
      const input = await enrollInput(created.token, `${host}.example.com`);
      const result = await fx.service.enroll(enrollRequest(input, '192.0.2.88'));
      assert.equal(result.hostname, `${host}.example.com`);
    }
    const inputs = [
      await enrollInput(created.token, 'c.example.com'),
      await enrollInput(created.token, 'd.example.com'),
    ];
    const [first, second] = await Promise.all(
      inputs.map((input, i) => errorCodeOf(fx.service.enroll(enrollRequest(input, `192.0.2.${i + 1}`)))),
    );
    assert.deepEqual([first, second].sort(), ['ok', 'rate_limited']);
    assert.equal(queue.refused, 1);
  });
});
