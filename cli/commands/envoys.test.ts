import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envoyListStatuses } from '../../server/fleet/index.ts';
import { envoyStatuses } from './envoys.ts';

describe('vigocli envoys list --status', () => {
  it('takes exactly the statuses the API filters by', () => {
    assert.deepEqual([...envoyStatuses], [...envoyListStatuses]);
  });
});
