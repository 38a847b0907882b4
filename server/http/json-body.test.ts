import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { VigoError, parseBody } from '../core/index.ts';
import { readJsonBody } from './json-body.ts';

const rules = {
  name: { type: 'string', maxLength: 5 },
  count: { type: 'integer', optional: true },
  tags: { type: 'string-array', optional: true, maxItems: 2, maxItemLength: 3 },
} as const;

function refusal(fn: () => unknown): { message: string; field: unknown } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigoError);
    assert.equal(err.code, 'request.invalid');
    return { message: err.message, field: err.details['field'] };
  }
  assert.fail('expected request.invalid');
}

describe('parseBody', () => {
  it('returns a body that satisfies the rules', () => {
    const body = parseBody({ name: 'ann', count: 3, tags: ['a', 'b'] }, rules);
    assert.deepEqual(body, { name: 'ann', count: 3, tags: ['a', 'b'] });
    assert.deepEqual(parseBody({ name: 'bo' }, rules), { name: 'bo' });
  });

  it('refuses non-objects, unknown fields, missing fields and wrong types, naming the field', () => {
    for (const value of [null, [], 'x', 3]) {
      assert.match(refusal(() => parseBody(value, rules)).message, /must be a JSON object/);
    }
    assert.deepEqual(refusal(() => parseBody({ name: 'a', extra: 1 }, rules)).field, 'extra');
    assert.deepEqual(
      refusal(() => parseBody(JSON.parse('{"name":"a","__proto__":{}}'), rules)).field,
      '__proto__',
    );
    assert.deepEqual(refusal(() => parseBody({}, rules)).field, 'name');
    assert.deepEqual(refusal(() => parseBody({ name: 1 }, rules)).field, 'name');
    assert.deepEqual(refusal(() => parseBody({ name: 'toolong' }, rules)).field, 'name');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', count: 1.5 }, rules)).field, 'count');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', count: '1' }, rules)).field, 'count');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', tags: 'a' }, rules)).field, 'tags');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', tags: ['a', 2] }, rules)).field, 'tags');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', tags: ['a', 'b', 'c'] }, rules)).field, 'tags');
    assert.deepEqual(refusal(() => parseBody({ name: 'a', tags: ['abcd'] }, rules)).field, 'tags');
  });
});

describe('readJsonBody', () => {
  const app = new Hono();
  app.post('/', async (c) => c.json(await readJsonBody(c, rules)));
  app.onError((err, c) => c.json({ error: err.message }, 400));

  it('needs a JSON content type and valid JSON', async () => {
    const ok = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"name":"x"}',
    });
    assert.equal(ok.status, 200);
    const form = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    });
    assert.equal(form.status, 400);
    assert.match(((await form.json()) as { error: string }).error, /Content-Type: application\/json/);
    const broken = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    assert.match(((await broken.json()) as { error: string }).error, /not valid JSON/);
  });
});
