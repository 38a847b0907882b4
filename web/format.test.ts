import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badge } from './format.ts';

describe('badge', () => {
  it('colours known words and gives any other word, prototype names included, the muted tone', () => {
    assert.match(badge('failed').text, /class="badge badge-bad"/);
    for (const word of ['constructor', '__proto__', 'toString', 'no such state']) {
      assert.match(badge(word).text, /class="badge badge-muted"/, word);
    }
  });
});
