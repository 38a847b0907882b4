import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentAnswers } from './recent-answers.ts';

describe('recent live-query answers', () => {
  it('keeps an answer for keepMs, then forgets it', () => {
    const recent = new RecentAnswers({ keepMs: 1000, maxCount: 10, maxText: 1000 });
    recent.put('a', '{"a":1}', 0);
    assert.equal(recent.get('a', 1000), '{"a":1}');
    assert.equal(recent.get('a', 1001), undefined);
    assert.equal(recent.size, 0);
  });

  it('drops the oldest beyond maxCount or maxText, and never keeps one larger than maxText', () => {
    const recent = new RecentAnswers({ keepMs: 60_000, maxCount: 2, maxText: 10 });
    recent.put('a', 'aaaa', 0);
    recent.put('b', 'bbbb', 1);
    recent.put('c', 'cccc', 2);
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => recent.get(id, 3)),
      [undefined, 'bbbb', 'cccc'],
    );
    recent.put('d', 'dddddddd', 4);
    assert.deepEqual(
      ['b', 'c', 'd'].map((id) => recent.get(id, 5)),
      [undefined, undefined, 'dddddddd'],
    );
    recent.put('e', 'x'.repeat(11), 6);
    assert.equal(recent.get('e', 6), undefined);
    assert.equal(recent.get('d', 6), 'dddddddd', 'a refused answer evicts nothing');
  });
});
