import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosticSink } from './diagnostics.ts';
import { checkSchema } from './schema-check.ts';
import { matchEntrySchema } from './schemas/file-schemas.ts';
import { resourceSchemas } from './schemas/resource-schemas.ts';
import { SourceMap, loadYaml } from './yaml-source.ts';

function check(schema: Record<string, unknown>, text: string): ReturnType<DiagnosticSink['list']> {
  const sink = new DiagnosticSink();
  const map = new SourceMap();
  const value = loadYaml('c.vgo', text, sink, map)!.value;
  checkSchema(schema, value, { sink, map, what: 'file resource "motd"' });
  return sink.list();
}

describe('checkSchema', () => {
  it('points an unknown key at the key and suggests the closest one', () => {
    const [d] = check(resourceSchemas.file!, 'type: file\ntarget_path: /etc/motd\nownr: root\n');
    assert.equal(d!.code, 'schema.unknown_key');
    assert.deepEqual([d!.line, d!.col], [3, 1]);
    assert.match(d!.message, /unknown key "ownr" in file resource "motd"/);
    assert.match(d!.hint, /did you mean "owner"\?/);
  });

  it('names the old vocabulary when a legacy key is used', () => {
    const [d] = check(matchEntrySchema, 'match: "*"\nmodules: [motd]\n');
    assert.match(d!.hint, /"modules:" is the old name; use "configcrates:"/);
  });

  it('explains an unquoted mode', () => {
    const [d] = check(resourceSchemas.file!, 'type: file\ntarget_path: /etc/motd\nmode: 644\n');
    assert.equal(d!.code, 'schema.wrong_type');
    assert.match(d!.hint, /mode: "0644"/);
  });

  it('lists the alternatives when none of them is present', () => {
    const [d] = check(resourceSchemas.file!, 'type: file\ncontent: hi\n');
    assert.equal(d!.code, 'schema.missing_key');
    assert.match(d!.message, /needs one of "target_path", "path"/);
  });

  it('suggests the closest enum value', () => {
    const [d] = check(resourceSchemas.service!, 'type: service\nservice: nginx\nstate: runing\n');
    assert.equal(d!.code, 'schema.bad_value');
    assert.deepEqual([d!.line, d!.col], [3, 8]);
    assert.match(d!.hint, /did you mean "running"\?/);
  });

  it('rejects a relative path with the reason', () => {
    const [d] = check(resourceSchemas.file!, 'type: file\ntarget_path: etc/motd\n');
    assert.match(d!.message, /must be an absolute path/);
  });
});
