import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { isVigoError } from '../../server/core/index.ts';
import { createTraitCollector } from './trait-source.ts';
import type { TraitSourceOptions } from './trait-source.ts';
import type { TraitCollector } from './types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp dir with a proc/sys/kernel/random/boot_id, and where the cache file goes. */
function workDir(bootId = 'boot-1'): {
  procRoot: string;
  cacheFile: string;
  setBootId: (id: string) => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(dir);
  const procRoot = join(dir, 'proc');
  mkdirSync(join(procRoot, 'sys/kernel/random'), { recursive: true });
  const setBootId = (id: string) => writeFileSync(join(procRoot, 'sys/kernel/random/boot_id'), `${id}\n`);
  setBootId(bootId);
  return { procRoot, cacheFile: join(dir, 'state', 'traits.json'), setBootId };
}

/** A collector that counts its runs and returns what `produce` gives for each run number. */
function counting(
  name: string,
  volatile: boolean,
  produce: (run: number) => Promise<Record<string, unknown>> | Record<string, unknown>,
  timeoutMs = 2000,
): TraitCollector & { runs: number } {
  const c = {
    name,
    volatile,
    timeoutMs,
    runs: 0,
    async collect() {
      c.runs += 1;
      return produce(c.runs);
    },
  };
  return c;
}

function source(options: TraitSourceOptions & { procRoot: string }) {
  const { procRoot, ...rest } = options;
  return createTraitCollector({ ...rest, env: { procRoot } });
}

describe('createTraitCollector', () => {
  it('runs collectors concurrently', async () => {
    const { procRoot } = workDir();
    let started = 0;
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    const waiter = (name: string): TraitCollector => ({
      name,
      volatile: true,
      timeoutMs: 5000,
      async collect() {
        started += 1;
        if (started === 2) release();
        await bothStarted;
        return { [name]: true };
      },
    });
    const { traits, errors } = await source({ procRoot, collectors: [waiter('a'), waiter('b')] }).collect();
    assert.deepEqual(errors, []);
    assert.deepEqual(traits, { a: true, b: true });
  });

  it('a collector that never resolves times out, the others still report, the next run does not start it again', async () => {
    const { procRoot } = workDir();
    let hangRuns = 0;
    const hang: TraitCollector = {
      name: 'hang',
      volatile: true,
      timeoutMs: 50,
      collect: () => {
        hangRuns += 1;
        return new Promise(() => {});
      },
    };
    const ok = counting('ok', true, (n) => ({ ok: n }));
    const traits = source({ procRoot, collectors: [hang, ok] });
    const first = await traits.collect();
    assert.deepEqual(first.traits, { ok: 1 });
    assert.deepEqual(first.errors, [{ collector: 'hang', message: 'timed out after 50 ms' }]);
    const second = await traits.collect();
    assert.deepEqual(second.traits, { ok: 2 });
    assert.match(second.errors[0]!.message, /has not finished yet/);
    assert.equal(hangRuns, 1);
  });

  it('errors from throwing collectors are reported, in collector order, and the last good value is kept', async () => {
    const { procRoot } = workDir();
    const flaky = counting('flaky', true, (n) => {
      if (n === 1) return { flaky: 'first' };
      throw new Error('device went away');
    });
    const syncThrow: TraitCollector = {
      name: 'sync',
      volatile: true,
      timeoutMs: 1000,
      collect: () => {
        throw new Error('thrown before any promise');
      },
    };
    const traits = source({ procRoot, collectors: [syncThrow, flaky] });
    assert.deepEqual((await traits.collect()).traits, { flaky: 'first' });
    const second = await traits.collect();
    assert.deepEqual(second.traits, { flaky: 'first' });
    assert.deepEqual(second.errors, [
      { collector: 'sync', message: 'thrown before any promise' },
      { collector: 'flaky', message: 'device went away' },
    ]);
  });

  it('refuses values that are not a JSON object of traits, and a trait reported twice', async () => {
    const { procRoot } = workDir();
    const bad = (name: string, value: unknown): TraitCollector => ({
      name,
      volatile: true,
      timeoutMs: 1000,
      collect: async () => value as Record<string, unknown>,
    });
    const { traits, errors } = await source({
      procRoot,
      collectors: [
        bad('array', [1]),
        bad('nan', { x: Number.NaN }),
        bad('null', null),
        bad('first', { shared: 1, own: 'a' }),
        bad('second', { shared: 2 }),
      ],
    }).collect();
    assert.deepEqual(traits, { shared: 1, own: 'a' });
    assert.deepEqual(
      errors.map((e) => e.collector),
      ['array', 'nan', 'null', 'second'],
    );
    assert.match(errors[1]!.message, /not JSON: non-finite number/);
    assert.match(errors[3]!.message, /"shared" is already reported by "first"/);
  });

  it('caches stable collectors for stableTtlMs and runs volatile ones every time', async () => {
    const { procRoot } = workDir();
    let nowMs = 1_000_000;
    const stable = counting('stable', false, (n) => ({ stable: n }));
    const volatile = counting('volatile', true, (n) => ({ volatile: n }));
    const traits = source({
      procRoot,
      collectors: [stable, volatile],
      now: () => nowMs,
      stableTtlMs: 60_000,
    });
    assert.deepEqual((await traits.collect()).traits, { stable: 1, volatile: 1 });
    nowMs += 59_999;
    assert.deepEqual((await traits.collect()).traits, { stable: 1, volatile: 2 });
    nowMs += 1;
    assert.deepEqual((await traits.collect()).traits, { stable: 2, volatile: 3 });
    assert.deepEqual((await traits.collect({ refreshStable: true })).traits, { stable: 3, volatile: 4 });
  });

  it('persists stable traits in a 0600 cache file that a restarted agent reuses within the same boot', async () => {
    const { procRoot, cacheFile, setBootId } = workDir();
    const first = counting('stable', false, () => ({ stable: 'from first agent' }));
    const volatile = counting('volatile', true, (n) => ({ volatile: n }));
    await source({ procRoot, cacheFile, collectors: [first, volatile] }).collect();
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);
    const doc = JSON.parse(readFileSync(cacheFile, 'utf8')) as { collectors: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.collectors), ['stable'], 'volatile values are not written');

    const restarted = counting('stable', false, () => ({ stable: 'from restarted agent' }));
    const again = await source({ procRoot, cacheFile, collectors: [restarted] }).collect();
    assert.deepEqual(again.traits, { stable: 'from first agent' });
    assert.equal(restarted.runs, 0);

    setBootId('boot-2');
    const afterReboot = counting('stable', false, () => ({ stable: 'after reboot' }));
    assert.deepEqual((await source({ procRoot, cacheFile, collectors: [afterReboot] }).collect()).traits, {
      stable: 'after reboot',
    });
  });

  it('a corrupt cache file is reported, ignored and rewritten', async () => {
    const { procRoot, cacheFile } = workDir();
    mkdirSync(join(cacheFile, '..'), { recursive: true });
    writeFileSync(cacheFile, '{"format": "vigo-traits-cache/1", trunc');
    const stable = counting('stable', false, () => ({ stable: 1 }));
    const { traits, errors } = await source({ procRoot, cacheFile, collectors: [stable] }).collect();
    assert.deepEqual(traits, { stable: 1 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.collector, 'cache');
    assert.match(errors[0]!.message, /it is not JSON/);
    assert.equal(
      (JSON.parse(readFileSync(cacheFile, 'utf8')) as { format: string }).format,
      'vigo-traits-cache/1',
    );
  });

  it('a cache file that cannot be written is an error of the run, not a failure', async () => {
    const { procRoot, cacheFile } = workDir();
    mkdirSync(join(cacheFile, '..'), { recursive: true });
    writeFileSync(join(cacheFile, '..', 'file'), '');
    const blocked = join(cacheFile, '..', 'file', 'traits.json');
    const { traits, errors } = await source({
      procRoot,
      cacheFile: blocked,
      collectors: [counting('stable', false, () => ({ stable: 1 }))],
    }).collect();
    assert.deepEqual(traits, { stable: 1 });
    assert.equal(errors[0]!.collector, 'cache');
    assert.match(errors[0]!.message, /cannot write the traits cache/);
  });

  it('serializes overlapping collect() calls', async () => {
    const { procRoot } = workDir();
    let active = 0;
    let maxActive = 0;
    const c = counting('c', true, async (n) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setImmediate(resolve));
      active -= 1;
      return { c: n };
    });
    const traits = source({ procRoot, collectors: [c] });
    const runs = await Promise.all([traits.collect(), traits.collect(), traits.collect()]);
    assert.deepEqual(
      runs.map((r) => r.traits.c),
      [1, 2, 3],
    );
    assert.equal(maxActive, 1);
  });

  it("returns the caller's own copy: changing it does not change the cache", async () => {
    const { procRoot } = workDir();
    const traits = source({ procRoot, collectors: [counting('s', false, () => ({ s: { v: 1 } }))] });
    const first = await traits.collect();
    (first.traits.s as { v: number }).v = 99;
    assert.deepEqual((await traits.collect()).traits, { s: { v: 1 } });
  });

  it('refuses duplicate names, bad timeouts and a negative TTL', () => {
    const c = counting('x', true, () => ({}));
    const cases: TraitSourceOptions[] = [
      { collectors: [c, c] },
      { collectors: [{ ...c, timeoutMs: 0 }] },
      { collectors: [{ ...c, name: '' }] },
      { collectors: [c], stableTtlMs: -1 },
    ];
    for (const options of cases)
      assert.throws(
        () => createTraitCollector(options),
        (err) => isVigoError(err) && err.code === 'config.invalid',
      );
  });

  it('with onlyKey runs only the collector that reported the key last time, and all while none has', async () => {
    const { procRoot } = workDir();
    const a = counting('a', false, (n) => ({ alpha: n }));
    const b = counting('b', false, (n) => ({ beta: n, gamma: n }));
    const traits = source({ procRoot, collectors: [a, b] });
    const first = await traits.collect({ onlyKey: 'beta', refreshStable: true });
    assert.deepEqual(first.traits, { alpha: 1, beta: 1, gamma: 1 }, 'no owner known yet: all ran');
    assert.deepEqual(first.owners, { alpha: 'a', beta: 'b', gamma: 'b' });
    const second = await traits.collect({ onlyKey: 'beta', refreshStable: true });
    assert.deepEqual(second.traits, { beta: 2, gamma: 2 });
    assert.deepEqual([a.runs, b.runs], [1, 2]);
    const unknown = await traits.collect({ onlyKey: 'delta', refreshStable: true });
    assert.deepEqual(unknown.traits, { alpha: 2, beta: 3, gamma: 3 });
  });
});
