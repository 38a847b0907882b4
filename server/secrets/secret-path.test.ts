import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isVigoError } from '../core/index.ts';
import { secretMarker } from '../policy/index.ts';
import { assertSecretPath, isValidSecretPath, maxSecretPathLength, secretPathProblem } from './index.ts';

// How an agent reads a marker back (docs/bundle-format.md): up to the first `__END__`.
const markerPattern = /__VIGO_SECRET__(.+?)__END__/;

describe('secret paths', () => {
  it('accepts what a secret: reference can name', () => {
    for (const path of ['vigo/db/password', 'a', '_x', 'x_', 'A-b.c/d_e', 'vigo/.hidden/x', 'n1/2/3', 'a__b'])
      assert.equal(secretPathProblem(path), undefined, path);
    assert.equal(isValidSecretPath('x'.repeat(maxSecretPathLength)), true);
  });

  it('rejects everything else with a reason', () => {
    const bad = [
      '',
      '/abs',
      'trailing/',
      'trailing-',
      'trailing.',
      '-lead',
      '.lead',
      'a/../b',
      'a..b',
      'a//b',
      'sp ace',
      'semi;colon',
      'uni/ü',
      'new\nline',
      'x__END',
      'x__END__y',
      'x'.repeat(maxSecretPathLength + 1),
    ];
    for (const path of bad) {
      assert.equal(isValidSecretPath(path), false, path);
      assert.throws(
        () => assertSecretPath(path),
        (err) => isVigoError(err) && err.code === 'secrets.path_invalid' && err.message.includes('invalid'),
      );
    }
  });

  it('comes back unchanged from a bundle marker whenever it is valid', () => {
    const alphabet = fc.constantFrom(...'aZ09_./-E'.split(''), 'END', '__');
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 1, maxLength: 40 }), (parts) => {
        const path = parts.join('');
        if (!isValidSecretPath(path)) return;
        const found = markerPattern.exec(`x=${secretMarker(path)};`);
        assert.equal(found?.[1], path);
      }),
      { numRuns: 2000 },
    );
  });
});
