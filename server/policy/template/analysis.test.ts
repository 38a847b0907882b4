import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate } from './index.ts';

/** [template, usesTraits, varsUsed, readsAllVars] */
const cases: Array<[string, boolean, string[], boolean]> = [
  ['plain text', false, [], false],
  ['{{ .Vars.a }}{{ .Vars.b.c }}', false, ['a', 'b'], false],
  ['{{ .Traits.os.family }}', true, [], false],
  ['{{ $.Traits.os.family }}', true, [], false],
  ['{{ with .Traits.os }}{{ .family }}{{ end }}', true, [], false],
  ['{{ with .Vars.db }}{{ .host }}{{ end }}', false, ['db'], false],
  ['{{ range .Vars.list }}{{ $.Vars.name }}{{ . }}{{ end }}', false, ['list', 'name'], false],
  ['{{ if .Vars.flag }}x{{ else if .Vars.other }}y{{ end }}', false, ['flag', 'other'], false],
  ['{{ .Vars.port | default .Vars.fallback }}', false, ['port', 'fallback'], false],
  ['{{ $v := .Vars }}{{ $v.port }}', false, ['port'], false],
  ['{{ $v := .Vars }}{{ $v }}', false, [], true],
  ['{{ index .Vars "x" }}', false, ['x'], false],
  ['{{ index . "Traits" "os" }}', true, [], false],
  ['{{ index .Vars .Vars.key }}', false, ['key'], true],
  ['{{ range $k, $v := .Vars }}{{ $k }}{{ end }}', false, [], true],
  ['{{ toJson .Vars }}', false, [], true],
  ['{{ toJson . }}', true, [], true],
  ['{{ with $ }}{{ .Vars.a }}{{ end }}', true, ['a'], true],
  ['{{ (default .Vars.a .Vars.b) }}', false, ['a', 'b'], false],
  ['{{ .Item.x }}{{ .Each.y }}', false, [], false],
  ['{{ range .Vars.hosts }}{{ .name }}{{ end }}', false, ['hosts'], false],
];

describe('template dependency analysis', () => {
  for (const [template, usesTraits, varsUsed, readsAllVars] of cases) {
    it(template, () => {
      const compiled = compileTemplate(template, { file: 't', line: 1, col: 1 });
      assert.equal(compiled.usesTraits, usesTraits, 'usesTraits');
      assert.deepEqual([...compiled.varsUsed].sort(), [...varsUsed].sort(), 'varsUsed');
      assert.equal(compiled.readsAllVars, readsAllVars, 'readsAllVars');
    });
  }
});
