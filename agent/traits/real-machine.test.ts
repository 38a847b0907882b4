import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TRAIT_PATHS, traitValue } from '../../server/policy/when/builtins.ts';
import { parseWhen, partialEvaluateWhen } from '../../server/policy/when/index.ts';
import { createTraitCollector, maxTraitsJsonBytes, traitsPayload } from './index.ts';

/** The type each when: trait builtin expects at its path; a new TRAIT_PATHS entry does not compile without one. */
const expectedTypes: Record<keyof typeof TRAIT_PATHS, 'string' | 'number' | 'boolean'> = {
  osFamily: 'string',
  distro: 'string',
  osVersion: 'string',
  arch: 'string',
  isContainer: 'boolean',
  memoryTotalMb: 'number',
};

describe('traits of this machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every collector answers and every path the server reads is there with its type', async () => {
    const { traits, errors } = await createTraitCollector({ cacheFile: join(dir, 'traits.json') }).collect({
      awaitBackground: true,
    });
    assert.deepEqual(errors, []);
    for (const [key, path] of Object.entries(TRAIT_PATHS)) {
      const value = traitValue(traits, path);
      assert.equal(
        typeof value,
        expectedTypes[key as keyof typeof TRAIT_PATHS],
        `${path} = ${String(value)}`,
      );
    }
    assert.ok((traitValue(traits, TRAIT_PATHS.memoryTotalMb) as number) > 0);
    assert.match(traitValue(traits, TRAIT_PATHS.osVersion) as string, /^\d+(\.\d+)*$/);
    const payload = traitsPayload(traits);
    assert.ok(Buffer.byteLength(payload.json) < maxTraitsJsonBytes);
    assert.deepEqual(payload.omitted, []);
    const sent = JSON.parse(payload.json) as Record<string, unknown>;
    for (const path of Object.values(TRAIT_PATHS)) assert.notEqual(traitValue(sent, path), undefined, path);

    // The server decides every trait builtin from what the agent sends.
    const text = (path: string) => JSON.stringify(traitValue(sent, path));
    const expression = [
      `os_family(${text(TRAIT_PATHS.osFamily)})`,
      `distro(${text(TRAIT_PATHS.distro)})`,
      `arch(${text(TRAIT_PATHS.arch)})`,
      `version_ge(${text(TRAIT_PATHS.osVersion)})`,
      `has_enough_ram(${text(TRAIT_PATHS.memoryTotalMb)})`,
      traitValue(sent, TRAIT_PATHS.isContainer) === true ? 'is_container' : '!is_container',
    ].join(' && ');
    const when = parseWhen(expression, { file: 'real-machine', line: 1, col: 1 });
    assert.deepEqual(partialEvaluateWhen(when, { vars: {}, traits: sent }), { kind: 'true' }, expression);
  });
});
