import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTraitFilter, traitsMatcher } from '../../fleet/index.ts';
import { compileTemplate } from '../template/index.ts';
import { traitValue } from './builtins.ts';
import { parseWhen, partialEvaluateWhen, resolveTraitKey, traitKeyAlternatives } from './index.ts';

/** What the reference agent reports: today's keys only, each fact once. */
const reported = {
  os: { family: 'debian' },
  cpu: { count: 4, model: 'Xeon' },
  mounts: [{ mountpoint: '/', device: '/dev/sda1', fstype: 'ext4' }],
  container: { is_container: false, runtime: null },
  dmi: { vendor: 'QEMU', product: 'Standard PC' },
};
/** A document from an agent that reports Vigo's names. */
const vigoNamed = { processors: { count: 2 }, virtual: { is_container: true } };

const at = { file: 'stacks/web.vgo', line: 1, col: 1 };
const decide = (expr: string, traits: Record<string, unknown>) =>
  partialEvaluateWhen(parseWhen(expr, at), { vars: {}, traits }).kind;

describe('trait aliases', () => {
  it('names the alternatives both ways, and a key without aliases has none', () => {
    assert.deepEqual(traitKeyAlternatives('processors'), ['cpu']);
    assert.deepEqual(traitKeyAlternatives('cpu'), ['processors']);
    assert.deepEqual(traitKeyAlternatives('mountpoints'), ['mounts', 'filesystem']);
    assert.deepEqual(traitKeyAlternatives('mounts'), ['mountpoints', 'filesystem']);
    assert.deepEqual(traitKeyAlternatives('os'), []);
    assert.equal(resolveTraitKey(reported, 'virtual'), 'container');
    assert.equal(resolveTraitKey(reported, 'cpu'), 'cpu');
    assert.equal(resolveTraitKey(reported, 'loadavg'), undefined);
    // Object.prototype members are not traits.
    assert.equal(resolveTraitKey(reported, 'constructor'), undefined);
  });

  it('when: reads Vigo names from a reference-agent document and Vigo-TS names from a Vigo one', () => {
    assert.equal(traitValue(reported, 'processors.count'), 4);
    assert.equal(traitValue(reported, 'hardware.vendor'), 'QEMU');
    assert.equal(traitValue(reported, 'filesystem'), reported.mounts);
    assert.equal(decide('traits.processors.count >= 4', reported), 'true');
    assert.equal(decide('traits.virtual.is_container', reported), 'false');
    assert.equal(decide('is_container', vigoNamed), 'true');
    assert.equal(decide('traits.cpu.count == 2', vigoNamed), 'true');
    assert.equal(decide('!traits.loadavg', reported), 'true');
  });

  it('templates read .Traits under either name', () => {
    const t = compileTemplate(
      '{{ .Traits.processors.count }} {{ .Traits.cpu.model }} {{ .Traits.hardware.vendor }}',
      at,
    );
    assert.equal(t.render({ Vars: {}, Traits: reported }), '4 Xeon QEMU');
    assert.equal(
      compileTemplate('{{ .Traits.cpu.count }}/{{ .Traits.virtual.is_container }}', at).render({
        Vars: {},
        Traits: vigoNamed,
      }),
      '2/true',
    );
    // A Vars map is not traits: its keys are not aliased.
    assert.throws(() =>
      compileTemplate('{{ .Vars.processors }}', at).render({ Vars: { cpu: 1 }, Traits: {} }),
    );
  });

  it('fleet trait filters match under either name', () => {
    const docs = new Map<string, unknown>([
      ['a', reported],
      ['b', vigoNamed],
    ]);
    const match = (filter: string) =>
      ['a', 'b'].filter(traitsMatcher([parseTraitFilter(filter)], (h) => docs.get(h)));
    assert.deepEqual(match('processors.count>=2'), ['a', 'b']);
    assert.deepEqual(match('cpu.count>3'), ['a']);
    assert.deepEqual(match('virtual.is_container=true'), ['b']);
    assert.deepEqual(match('mountpoints'), ['a']);
  });
});
