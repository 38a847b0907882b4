import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../test/helpers/deadline.ts';
import { createTraitCollector } from './trait-source.ts';
import type { TraitCollector } from './types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function procRoot(): { procRoot: string; cacheFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'proc/sys/kernel/random'), { recursive: true });
  writeFileSync(join(dir, 'proc/sys/kernel/random/boot_id'), 'boot-1\n');
  return { procRoot: join(dir, 'proc'), cacheFile: join(dir, 'traits.json') };
}

/** A background collector whose runs finish when the test says so. */
function gated(fail = false) {
  const gates: (() => void)[] = [];
  const collector: TraitCollector & { runs: number } = {
    name: 'slow',
    volatile: false,
    background: true,
    timeoutMs: 10_000,
    runs: 0,
    async collect() {
      const run = ++collector.runs;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) throw new Error(`scan ${run} failed`);
      return { slow: { run } };
    },
  };
  const open = () => gates.splice(0).forEach((g) => g());
  return { collector, open };
}

const quick: TraitCollector = {
  name: 'quick',
  volatile: true,
  timeoutMs: 1000,
  collect: async () => ({ quick: 1 }),
};

describe('background collectors', () => {
  it('no collect() waits for one; its value shows from the next run on and is cached to disk', async () => {
    const { procRoot: p, cacheFile } = procRoot();
    const { collector, open } = gated();
    let now = 1_000;
    const source = createTraitCollector({
      collectors: [quick, collector],
      env: { procRoot: p },
      cacheFile,
      now: () => now,
    });
    const first = await source.collect();
    assert.deepEqual(first, { traits: { quick: 1 }, errors: [], owners: { quick: 'quick' } });
    // A second run while the refresh is under way starts no other.
    assert.deepEqual((await source.collect()).traits, { quick: 1 });
    assert.equal(collector.runs, 1);
    open();
    const second = await waitFor('the background value', async () => {
      const run = await source.collect();
      return run.traits.slow === undefined ? undefined : run;
    });
    assert.deepEqual(second.traits, { quick: 1, slow: { run: 1 } });
    assert.deepEqual(second.errors, []);
    // The cache file is written after the value is in memory.
    await waitFor('the cache file', () => {
      try {
        return readFileSync(cacheFile, 'utf8').includes('"slow"') ? true : undefined;
      } catch {
        return undefined;
      }
    });
    // Past the TTL the old value is reported while the next refresh runs.
    now += 2 * 60 * 60 * 1000;
    assert.deepEqual((await source.collect()).traits.slow, { run: 1 });
    await waitFor('the second refresh to start', () => (collector.runs === 2 ? true : undefined));
    open();
    await waitFor('the refreshed value', async () =>
      ((await source.collect()).traits.slow as { run: number }).run === 2 ? true : undefined,
    );
  });

  it('a failed refresh is reported by the next collect(), once', async () => {
    const { procRoot: p } = procRoot();
    const { collector, open } = gated(true);
    const source = createTraitCollector({ collectors: [quick, collector], env: { procRoot: p } });
    assert.deepEqual((await source.collect()).errors, []);
    open();
    const failed = await waitFor('the error', async () => {
      const { errors } = await source.collect();
      return errors.length > 0 ? errors : undefined;
    });
    assert.deepEqual(failed, [{ collector: 'slow', message: 'scan 1 failed' }]);
  });

  it('awaitBackground waits for the refresh (vigo traits)', async () => {
    const { procRoot: p } = procRoot();
    const { collector, open } = gated();
    const source = createTraitCollector({ collectors: [quick, collector], env: { procRoot: p } });
    const run = source.collect({ awaitBackground: true });
    await waitFor('the refresh to start', () => (collector.runs === 1 ? true : undefined));
    open();
    assert.deepEqual((await run).traits, { quick: 1, slow: { run: 1 } });
  });

  it('a one-off run starts none and reports the cached value; vigo traits still waits for it', async () => {
    const { procRoot: p } = procRoot();
    const { collector, open } = gated();
    const source = createTraitCollector({
      collectors: [quick, collector],
      env: { procRoot: p },
      startBackground: false,
    });
    assert.deepEqual((await source.collect()).traits, { quick: 1 });
    assert.equal(collector.runs, 0);
    const waited = source.collect({ awaitBackground: true });
    await waitFor('the refresh to start', () => (collector.runs === 1 ? true : undefined));
    open();
    assert.deepEqual((await waited).traits, { quick: 1, slow: { run: 1 } });
  });

  it('starts its first refresh only once backgroundDelayMs has passed, unless it is awaited', async () => {
    const { procRoot: p } = procRoot();
    const { collector, open } = gated();
    let now = 1_000;
    const source = createTraitCollector({
      collectors: [quick, collector],
      env: { procRoot: p },
      now: () => now,
      backgroundDelayMs: 60_000,
    });
    assert.deepEqual((await source.collect()).traits, { quick: 1 });
    now += 59_999;
    await source.collect();
    assert.equal(collector.runs, 0, 'none before the delay');
    now += 1;
    await source.collect();
    assert.equal(collector.runs, 1, 'the first once it has passed');
    open();
    const early = createTraitCollector({
      collectors: [quick, collector],
      env: { procRoot: p },
      now: () => now,
      backgroundDelayMs: 60_000,
    });
    const waited = early.collect({ awaitBackground: true });
    await waitFor('the awaited refresh to start', () => (collector.runs === 2 ? true : undefined));
    open();
    assert.deepEqual((await waited).traits, { quick: 1, slow: { run: 2 } });
  });

  it('close() kills the command of a background scan still running', async () => {
    const { procRoot: p } = procRoot();
    let runs = 0;
    const scan: TraitCollector = {
      name: 'scan',
      volatile: false,
      background: true,
      timeoutMs: 60_000,
      async collect(env) {
        runs += 1;
        const r = await env.run('sleep', ['60'], { timeoutMs: 60_000 });
        throw new Error(`sleep ended: exit ${String(r.exitCode)}`);
      },
    };
    const source = createTraitCollector({ collectors: [quick, scan], env: { procRoot: p } });
    await source.collect();
    source.close?.();
    const errors = await waitFor('the killed scan', async () => {
      const run = await source.collect();
      return run.errors.length > 0 ? run.errors : undefined;
    });
    assert.equal(errors[0]?.collector, 'scan');
    assert.match(errors[0]?.message ?? '', /^sleep ended/);
    // Closed: no scan starts again.
    await source.collect();
    assert.equal(runs, 1);
  });
});
