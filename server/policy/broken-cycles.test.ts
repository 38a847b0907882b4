import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorsOf, validateFiles } from './testing.ts';

const envoys = 'envoys:\n  - match: "*"\n    configcrates: [app]\n';

function crate(a: string, b: string, c = ''): Record<string, string> {
  return {
    'envoys.vgo': envoys,
    'configcrates/app.vgo': [
      'name: app',
      'resources:',
      '  - name: a',
      '    type: file',
      '    path: /tmp/a',
      '    content: x',
      ...a.split('\n').filter((l) => l !== ''),
      '  - name: b',
      '    type: file',
      '    path: /tmp/b',
      '    content: y',
      ...b.split('\n').filter((l) => l !== ''),
      ...c.split('\n').filter((l) => l !== ''),
      '',
    ].join('\n'),
  };
}

describe('every problem at once: cycles next to schema errors', () => {
  it('reports a cycle when another resource of the configcrate has a schema error', async () => {
    const r = await validateFiles(
      crate('    depends_on: [b]', '    depends_on: [a]', '  - name: c\n    type: file\n    path: [1]'),
    );
    const errors = errorsOf(r);
    assert.ok(errors.includes('dag.cycle configcrates/app.vgo:3:5'), errors.join('\n'));
    assert.ok(
      errors.some((e) => e.startsWith('schema.wrong_type configcrates/app.vgo:')),
      errors.join('\n'),
    );
  });

  it('reports a cycle through a resource that itself failed its schema', async () => {
    const r = await validateFiles(crate('    bogus: 1\n    depends_on: [b]', '    depends_on: [app/a]'));
    const errors = errorsOf(r);
    assert.ok(errors.includes('schema.unknown_key configcrates/app.vgo:7:5'), errors.join('\n'));
    const cycle = r.diagnostics.find((d) => d.code === 'dag.cycle');
    assert.ok(cycle, errors.join('\n'));
    assert.match(cycle.message, /a → b → a/);
    assert.match(cycle.message, /"a" also failed to load/);
  });

  it('follows before, notify and subscribes edges, in their directions', async () => {
    // a before b: b runs after a; b notifies a: a runs after b. A loop, through a broken resource.
    const r = await validateFiles(crate('    mode: 99999\n    before: [b]', '    notify: [a]'));
    assert.equal(r.diagnostics.filter((d) => d.code === 'dag.cycle').length, 1);
  });

  it('reports no cycle where the edges run one way only', async () => {
    const r = await validateFiles(crate('    mode: 99999\n    depends_on: [b]', '    before: [a]'));
    assert.equal(r.diagnostics.filter((d) => d.code === 'dag.cycle').length, 0);
    assert.ok(errorsOf(r).some((e) => e.startsWith('schema.bad_value')));
  });
});
