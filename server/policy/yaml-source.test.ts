import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosticSink } from './diagnostics.ts';
import { SourceMap, loadYaml } from './yaml-source.ts';

function load(text: string): { value: unknown; sink: DiagnosticSink; map: SourceMap } {
  const sink = new DiagnosticSink();
  const map = new SourceMap();
  const r = loadYaml('x.vgo', text, sink, map);
  return { value: r?.value, sink, map };
}

describe('loadYaml', () => {
  it('records the position of every key and value', () => {
    const { value, map } = load('name: web\nresources:\n  - type: file\n    mode: "0644"\n');
    const doc = value as { resources: Record<string, unknown>[] };
    const res = doc.resources[0]!;
    assert.deepEqual(map.keyPos(res, 'mode'), { file: 'x.vgo', line: 4, col: 5 });
    assert.deepEqual(map.pos(res, 'mode'), { file: 'x.vgo', line: 4, col: 11 });
    assert.deepEqual(map.textPos(res, 'mode'), { file: 'x.vgo', line: 4, col: 12 });
    assert.deepEqual(map.pos(doc.resources, 0), { file: 'x.vgo', line: 3, col: 5 });
  });

  it('points block scalar text at its first content line', () => {
    const { value, map } = load('content: |\n    hello\n    world\n');
    assert.deepEqual(map.textPos(value as object, 'content'), { file: 'x.vgo', line: 2, col: 5 });
  });

  it('keeps the source text of numbers so mode: 0644 can be read back', () => {
    const { value, map } = load('mode: 0644\n');
    assert.equal((value as { mode: number }).mode, 644);
    assert.equal(map.raw(value as object, 'mode'), '0644');
  });

  it('reports every tab-indented line with its position and nothing else', () => {
    const { value, sink } = load('name: x\nresources:\n\t- type: file\n\t  mode: "0644"\n');
    assert.equal(value, undefined);
    const d = sink.list();
    assert.deepEqual(
      d.map((x) => [x.code, x.line, x.col]),
      [
        ['yaml.tab', 3, 1],
        ['yaml.tab', 4, 1],
      ],
    );
  });

  it('accepts tabs inside block scalar content', () => {
    const { value, sink } = load('content: |\n  all:\n  \techo hi\n');
    assert.deepEqual(sink.list(), []);
    assert.equal((value as { content: string }).content, 'all:\n\techo hi\n');
  });

  it('reports duplicate keys and multiple documents clearly', () => {
    assert.equal(load('a: 1\na: 2\n').sink.list()[0]!.code, 'yaml.duplicate_key');
    const multi = load('a: 1\n---\nb: 2\n').sink.list()[0]!;
    assert.equal(multi.code, 'yaml.syntax');
    assert.match(multi.message, /one YAML document/);
  });

  it('resolves merge keys with explicit keys winning', () => {
    const { value } = load('base: &b {owner: root, mode: "0600"}\nr:\n  <<: *b\n  mode: "0644"\n');
    assert.deepEqual((value as { r: unknown }).r, { mode: '0644', owner: 'root' });
  });
});
