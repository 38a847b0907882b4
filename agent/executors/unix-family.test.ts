import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unixResourceTypeSpecs } from '../../server/policy/schemas/unix-schemas.ts';
import { unixFamilyExecutors } from './unix-family.ts';

describe('unix family', () => {
  it('has one executor for every Unix resource type the server accepts', () => {
    assert.deepEqual(
      unixFamilyExecutors.map((e) => e.type).sort(),
      Object.keys(unixResourceTypeSpecs).sort(),
    );
  });
});
