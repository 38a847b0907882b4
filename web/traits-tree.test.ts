import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traitsTree, traitsTreeLimits } from './traits-tree.ts';

describe('traitsTree', () => {
  it('escapes hostile keys and values from the agent', () => {
    const out = traitsTree({
      '<img src=x onerror=alert(1)>': '<script>alert(1)</script>',
      os: { family: '"><script>x()</script>' },
    }).text;
    assert.equal(/<script|<img/i.test(out), false);
    assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(out, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('folds objects and arrays into details elements with their sizes, sorted by key', () => {
    const out = traitsTree({
      zeta: 1,
      os: { family: 'debian', version: '12' },
      mounts: [{ path: '/' }],
    }).text;
    assert.equal((out.match(/<details/g) ?? []).length, 3);
    assert.match(out, /mounts<\/span> <span class="muted">\[1\]/);
    assert.match(out, /os<\/span> <span class="muted">\{2\}/);
    assert.ok(out.indexOf('mounts') < out.indexOf('>os<') && out.indexOf('>os<') < out.indexOf('zeta'));
  });

  it('says so when there are no traits', () => {
    assert.match(traitsTree(undefined).text, /No traits reported yet/);
  });

  it('bounds depth and size, so a hostile document cannot produce a huge page', () => {
    let deep: Record<string, unknown> = { leaf: 'bottom' };
    for (let i = 0; i < 50; i++) deep = { nested: deep };
    const deepOut = traitsTree(deep).text;
    assert.match(deepOut, /nested too deep to show/);
    assert.equal(deepOut.includes('bottom'), false);

    const wide: Record<string, unknown> = {};
    for (let i = 0; i < traitsTreeLimits.maxNodes * 2; i++) wide[`k${String(i).padStart(6, '0')}`] = i;
    const wideOut = traitsTree(wide).text;
    assert.match(wideOut, /Only the first 5000 traits are shown/);
    assert.equal((wideOut.match(/<li>/g) ?? []).length, traitsTreeLimits.maxNodes);

    const long = traitsTree({ blob: 'x'.repeat(10_000) }).text;
    assert.match(long, /… \(10000 characters\)/);
  });
});
