import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { painter, renderFieldDiff } from './config-diff.ts';

const diff = {
  resources: [
    {
      id: 'motd/motd',
      type: 'file',
      status: 'changed' as const,
      entries: ['envoys.vgo[*]'],
      entryCount: 7,
      fields: [{ field: 'params.content', before: '"a"', after: '"b"' }],
      fieldsOmitted: 2,
    },
  ],
  resourcesOmitted: 3,
};

describe('field diff rendering', () => {
  it('colours only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    assert.equal(painter({}, true)('31', 'x'), '\u001b[31mx\u001b[0m');
    assert.equal(painter({}, false)('31', 'x'), 'x');
    assert.equal(painter({ NO_COLOR: '1' }, true)('31', 'x'), 'x');
    assert.equal(painter({ TERM: 'dumb' }, true)('31', 'x'), 'x');
  });

  it('prints - old / + new per field and says what was truncated', () => {
    const lines = renderFieldDiff(diff, painter({}, false));
    assert.deepEqual(lines, [
      '~ changed file motd/motd  (7 entries: envoys.vgo[*], … 6 more)',
      '    params.content',
      '      - "a"',
      '      + "b"',
      '    … 2 more fields (truncated)',
      '… 3 more resource changes (truncated)',
    ]);
  });
});
