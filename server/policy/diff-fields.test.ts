import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffFields, fieldDiffLimits } from './diff-fields.ts';
import { validateFiles } from './testing.ts';
import type { CompiledSnapshot } from './types.ts';

async function compile(
  crate: string,
  envoys = 'envoys:\n  - match: "*"\n    configcrates: [app]\n',
): Promise<CompiledSnapshot> {
  const r = await validateFiles({ 'envoys.vgo': envoys, 'configcrates/app.vgo': crate });
  assert.ok(r.snapshot, JSON.stringify(r.diagnostics));
  return r.snapshot;
}

const file = (name: string, path: string, content: string, extra = ''): string =>
  `  - name: ${name}\n    type: file\n    path: ${path}\n    content: ${JSON.stringify(content)}\n${extra}`;

describe('diffFields', () => {
  it('lists added, removed and changed resources, and the changed fields with old and new values', async () => {
    const before = await compile(
      `name: app\nresources:\n${file('motd', '/tmp/motd', 'hello')}${file('gone', '/tmp/gone', 'x')}`,
    );
    const after = await compile(
      `name: app\nresources:\n${file('motd', '/tmp/motd', 'bye', '    mode: "0600"\n')}${file('new', '/tmp/new', 'y')}`,
    );
    const d = diffFields(before, after);
    assert.equal(d.resourcesOmitted, 0);
    assert.deepEqual(
      d.resources.map((r) => `${r.status} ${r.type} ${r.id} ${r.entryCount}`),
      ['removed file app/gone 1', 'changed file app/motd 1', 'added file app/new 1'],
    );
    const motd = d.resources.find((r) => r.id === 'app/motd')!;
    assert.deepEqual(motd.fields, [
      { field: 'params.content', before: '"hello"', after: '"bye"' },
      { field: 'params.mode', after: '"0600"' },
    ]);
    assert.deepEqual(motd.entries, ['envoys.vgo[*]']);
  });

  it('is empty between equal snapshots, and everything is added against the empty configuration', async () => {
    const crate = `name: app\nresources:\n${file('motd', '/tmp/motd', 'hello')}`;
    const a = await compile(crate);
    const b = await compile(crate);
    assert.deepEqual(diffFields(a, b), { resources: [], resourcesOmitted: 0 });
    assert.deepEqual(
      diffFields(undefined, a).resources.map((r) => r.status),
      ['added'],
    );
    assert.deepEqual(
      diffFields(a, undefined).resources.map((r) => r.status),
      ['removed'],
    );
  });

  it('lists one change once with every entry it applies to', async () => {
    const envoys =
      'envoys:\n  - match: "web-*"\n    configcrates: [app]\n  - match: "db-*"\n    configcrates: [app]\n';
    const a = await compile(`name: app\nresources:\n${file('motd', '/tmp/motd', 'a')}`, envoys);
    const b = await compile(`name: app\nresources:\n${file('motd', '/tmp/motd', 'b')}`, envoys);
    const d = diffFields(a, b);
    assert.equal(d.resources.length, 1);
    assert.equal(d.resources[0]!.entryCount, 2);
    assert.deepEqual(d.resources[0]!.entries, ['envoys.vgo[db-*]', 'envoys.vgo[web-*]']);
  });

  it('bounds the answer: long values end with an ellipsis, extra resources are counted', async () => {
    const long = 'x'.repeat(fieldDiffLimits.maxValueChars * 2);
    const many = (content: string, n: number): string =>
      `name: app\nresources:\n${Array.from({ length: n }, (_, i) => file(`f${i}`, `/tmp/f${i}`, i === 0 ? long + content : content)).join('')}`;
    const n = fieldDiffLimits.maxResources + 7;
    const d = diffFields(await compile(many('a', n)), await compile(many('b', n)));
    assert.equal(d.resources.length, fieldDiffLimits.maxResources);
    assert.equal(d.resourcesOmitted, 7);
    const first = d.resources.find((r) => r.id === 'app/f0')!;
    const value = first.fields[0]!.before!;
    assert.equal(value.length, fieldDiffLimits.maxValueChars);
    assert.ok(value.endsWith('…'));
  });
});
