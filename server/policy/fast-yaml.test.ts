import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DiagnosticSink } from './diagnostics.ts';
import { fastParseYaml } from './fast-yaml.ts';
import { SourceMap, isRecord, loadYaml } from './yaml-source.ts';

/** Both paths must agree on values and on every position the diagnostics can point at. */
function assertSamePaths(text: string): boolean {
  const slowMap = new SourceMap();
  const slow = loadYaml('f.vgo', text, new DiagnosticSink(), slowMap, { fast: false });
  if (!fastParseYaml(text)) return false;
  const fastMap = new SourceMap();
  const fast = loadYaml('f.vgo', text, new DiagnosticSink(), fastMap);
  assert.ok(slow, `fast path accepted a document the general parser rejects:\n${text}`);
  assert.deepEqual(fast!.value, slow.value, text);
  const walk = (a: unknown, b: unknown): void => {
    if (!Array.isArray(a) && !isRecord(a)) return;
    assert.deepEqual(fastMap.pos(a), slowMap.pos(b as object), `container position in:\n${text}`);
    const keys = Array.isArray(a) ? a.map((_, i) => i) : Object.keys(a);
    for (const k of keys) {
      const where = `key ${String(k)} in:\n${text}`;
      assert.deepEqual(fastMap.pos(a, k), slowMap.pos(b as object, k), where);
      assert.deepEqual(fastMap.keyPos(a, k), slowMap.keyPos(b as object, k), where);
      assert.deepEqual(fastMap.textPos(a, k), slowMap.textPos(b as object, k), where);
      assert.equal(fastMap.raw(a, k), slowMap.raw(b as object, k), where);
      walk((a as Record<string | number, unknown>)[k], (b as Record<string | number, unknown>)[k]);
    }
  };
  walk(fast!.value, slow.value);
  return true;
}

const word = fc.stringMatching(/^[a-z][a-z0-9_./-]{0,10}$/);
const scalar = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'a b',
      'x: y',
      'a #b',
      '#c',
      '- d',
      '"q"',
      "it's",
      'true',
      'null',
      '~',
      '0644',
      '1e3',
      '.inf',
      '-5',
      '0x1F',
      'é ü',
      'k:',
      '[x]',
      '{y}',
      '|',
      '>',
      '*a',
      '&b',
      '!t',
      '@x',
      'line\nbreak',
      'two\nlines\n',
      'tab\tin',
      'back\\slash',
      '\u0001',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const key = fc.oneof(
  { weight: 5, arbitrary: word },
  fc.constantFrom('a b', 'x:y', '1', 'true', '"k"', 'é', '#h', '- d'),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('list')),
  map: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  list: fc.array(tie('node'), { maxLength: 4 }),
})).map;

describe('fast YAML path', () => {
  it('agrees with the general parser on generated documents in every style', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        tree,
        fc.constantFrom('block', 'flow', 'any'),
        fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL'),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        (value, collectionStyle, defaultStringType, indentSeq, indent) => {
          const text = stringify(value, {
            collectionStyle: collectionStyle as 'block',
            defaultStringType: defaultStringType as 'PLAIN',
            indentSeq,
            indent,
          });
          if (assertSamePaths(text)) accepted++;
          const commented = text.replace(/\n/g, '\n# note\n\n');
          if (assertSamePaths(commented)) accepted++;
        },
      ),
      { numRuns: 600 },
    );
    assert.ok(accepted > 400, `fast path accepted only ${accepted} of 1200 documents`);
  });

  it('agrees after random edits (trailing spaces and comments, wider gaps, blank lines)', () => {
    fc.assert(
      fc.property(
        tree,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('  ', ' # c', '\n', '\n   \n', ':  ', '\n# x\n')), {
          maxLength: 6,
        }),
        (value, edits) => {
          let text = stringify(value);
          for (const [n, edit] of edits) {
            const lines = text.split('\n');
            const i = n % lines.length;
            lines[i] = edit === ':  ' ? lines[i]!.replace(': ', ':  ') : lines[i] + edit;
            text = lines.join('\n');
          }
          assertSamePaths(text);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('agrees on every stack in the repository', () => {
    const roots = ['policies', 'test/fixtures/stacks'].map((p) => path.join(import.meta.dirname, '../..', p));
    let files = 0;
    const visit = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) visit(p);
        else if (p.endsWith('.vgo')) {
          files++;
          assertSamePaths(fs.readFileSync(p, 'utf8'));
        }
      }
    };
    roots.forEach(visit);
    assert.ok(files > 40);
  });

  it('handles the shapes stacks use, and leaves the rest to the general parser', () => {
    const accepted = [
      'name: x\nresources:\n  - name: a\n    type: file\n    content: |\n      one\n\n      two\n    mode: "0644"\n',
      'k:\n- a\n- b\n',
      'a: |+\n  x\n\n',
      'a: |-\n  x\n\nb: 1\n',
      'list: [1, "two", {three: 3}]\n',
      '  indented: true\n',
      '# only a comment\n',
      'url: http://example.com:8080/x # trailing\n',
    ];
    for (const text of accepted) assert.ok(assertSamePaths(text), `fast path should accept:\n${text}`);
    const refused = [
      'a: &x 1\nb: *x\n',
      'a: >\n  folded\n',
      'a: "multi\n  line"\n',
      'a:\n\tb: 1\n',
      'a: 1\na: 2\n',
      '---\na: 1\n',
      'a: plain\n  continued\n',
      'a: !!str 1\n',
      'x: [1,\n 2]\n',
    ];
    for (const text of refused) assert.equal(fastParseYaml(text), undefined, text);
  });
});
