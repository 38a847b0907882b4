import { create } from '@bufbuild/protobuf';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CheckInPayloadSchema, ResolveSecretsPayloadSchema } from '../../protocol/index.ts';
import { checkInProblem, parseTraits, resolveSecretsProblem } from './payload-limits.ts';

describe('payload limits', () => {
  it('holds CheckIn fields to their documented sizes, inclusive', () => {
    const at = (fields: Record<string, unknown>) => checkInProblem(create(CheckInPayloadSchema, fields));
    assert.equal(
      at({
        agentVersion: 'v'.repeat(64),
        hostname: 'h'.repeat(253),
        stateFingerprint: 'a'.repeat(64),
        traitsHash: 'b'.repeat(64),
        traitsJson: new Uint8Array(1024 * 1024),
        traceparent: 't'.repeat(128),
      }),
      undefined,
    );
    assert.match(at({ agentVersion: 'é'.repeat(33) }) ?? '', /agent_version is 66 bytes/);
    assert.match(at({ traitsJson: new Uint8Array(1024 * 1024 + 1) }) ?? '', /traits_json/);
    assert.match(at({ stateFingerprint: 'A'.repeat(64) }) ?? '', /state_fingerprint/);
  });

  it('takes traits only as a JSON object whose SHA-256 is traits_hash', () => {
    const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
    const check = (text: string, hash = hashOf(text)) => parseTraits(Buffer.from(text), hash, hashOf(text));
    assert.deepEqual(check('{"os":{"family":"debian"}}'), { json: '{"os":{"family":"debian"}}' });
    assert.equal(check('{}', 'f'.repeat(64)), 'traits_hash is not the SHA-256 of traits_json');
    for (const text of ['[]', '"x"', '1', 'null', '{"a":']) assert.equal(typeof check(text), 'string', text);
    const nested = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    assert.equal(typeof check(nested(64)), 'object', '64 levels are fine');
    assert.equal(check(nested(65)), 'traits_json nests deeper than 64 levels');
    assert.equal(check(nested(400_000)), 'traits_json nests deeper than 64 levels');
  });

  it('takes 1..256 distinct secret references of 1..512 bytes', () => {
    const at = (refs: string[]) => resolveSecretsProblem(create(ResolveSecretsPayloadSchema, { refs }));
    assert.equal(at(Array.from({ length: 256 }, (_, i) => `r/${i}`)), undefined);
    assert.equal(at(['r'.repeat(512)]), undefined);
    assert.match(at([]) ?? '', /empty/);
    assert.match(at(Array.from({ length: 257 }, (_, i) => `r/${i}`)) ?? '', /257/);
    assert.match(at(['a', 'b', 'a']) ?? '', /refs\[2\] repeats/);
    assert.match(at(['r'.repeat(513)]) ?? '', /513 bytes/);
    assert.match(at(['']) ?? '', /refs\[0\] is empty/);
  });
});
