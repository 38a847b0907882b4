import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { descriptorsNeeded, openFileLimits, parseOpenFileLimits } from './fd-limit.ts';

describe('open-file limits', () => {
  it('reads soft and hard limits from /proc/<pid>/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             95452                95452                processes \n' +
      'Max open files            1024                 524288               files     \n';
    assert.deepEqual(parseOpenFileLimits(text), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseOpenFileLimits('Max open files  unlimited  unlimited  files'), {
      soft: Infinity,
      hard: Infinity,
    });
    assert.equal(parseOpenFileLimits('nothing here'), undefined);
  });

  it(
    'finds that node already raised its soft limit to the hard limit',
    { skip: process.platform !== 'linux' },
    () => {
      const limits = openFileLimits();
      assert.ok(limits !== undefined);
      assert.equal(limits.soft, limits.hard);
    },
  );

  it('asks for two descriptors per envoy and headroom', () => {
    assert.equal(descriptorsNeeded(0), 4096);
    assert.equal(descriptorsNeeded(100_000), 204_096);
  });
});
