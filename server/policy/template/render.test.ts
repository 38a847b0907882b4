import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, isTemplate } from './index.ts';
import type { TemplateData } from './index.ts';

const source = { file: 'templates/app.conf.tmpl', line: 1, col: 1 };

const vars = {
  name: 'web',
  port: 8080,
  list: ['a', 'b'],
  nums: [1, 2, 3],
  sparse: ['x', null, 'y'],
  csv: 'a, b,c',
  empty: '',
  zero: 0,
  flag: true,
  off: false,
  db: { host: 'db1', port: 5432 },
  nul: null,
  html: '<a&b>',
  multi: 'l1\nl2',
  hosts: [
    { name: 'h1', ip: '10.0.0.1' },
    { name: 'h2', ip: '10.0.0.2' },
  ],
};
const traits = { os: { family: 'debian', version: '12' }, memory: { total_mb: 2048 } };
const data: TemplateData = {
  Vars: vars,
  Traits: traits,
  Item: { key: 'k1', value: 'v1' },
  Each: { key: 'e1' },
};

function render(template: string, input: TemplateData = data): string {
  return compileTemplate(template, source).render(input);
}

describe('template rendering', () => {
  const cases: Array<[string, string, string]> = [
    // default: the piped value is the last argument, so `x | default "80"` = default "80" x
    ['default on a missing var', '{{ .Vars.app_port | default "80" }}', '80'],
    ['default on an empty string', '{{ .Vars.empty | default "none" }}', 'none'],
    ['default on zero', '{{ .Vars.zero | default 5 }}', '5'],
    ['default on null', '{{ .Vars.nul | default "n/a" }}', 'n/a'],
    ['default keeps a set value', '{{ .Vars.port | default 80 }}', '8080'],
    ['default in prefix form', '{{ default "x" .Vars.name }}', 'web'],
    ['default on a missing nested key', '{{ .Vars.db.user | default "root" }}', 'root'],
    // join accepts either order
    ['join piped', '{{ .Vars.list | join "," }}', 'a,b'],
    ['join list first', '{{ join .Vars.list ", " }}', 'a, b'],
    ['join separator first', '{{ join "-" .Vars.nums }}', '1-2-3'],
    ['join skips nulls', '{{ join .Vars.sparse "+" }}', 'x+y'],
    ['quote', '{{ .Vars.name | quote }} {{ quote "a\\"b" }}', '"web" "a\\"b"'],
    ['quote several', '{{ quote "a" 1 }}', '"a" "1"'],
    ['upper lower trim', '{{ upper "ab" }} {{ "CD" | lower }} [{{ trim "  x \\n" }}]', 'AB cd [x]'],
    ['replace', '{{ .Vars.name | replace "w" "W" }}', 'Web'],
    ['split then range', '{{ range split "," .Vars.csv }}[{{ trim . }}]{{ end }}', '[a][b][c]'],
    ['split piped', '{{ .Vars.csv | split "," | len }}', '3'],
    ['contains substring', '{{ contains "eb" .Vars.name }} {{ .Vars.name | contains "x" }}', 'true false'],
    ['contains list membership', '{{ if .Vars.list | contains "b" }}yes{{ end }}', 'yes'],
    ['hasPrefix hasSuffix', '{{ hasPrefix "w" .Vars.name }} {{ .Vars.name | hasSuffix "b" }}', 'true true'],
    ['toJson sorts keys', '{{ toJson .Vars.db }}', '{"host":"db1","port":5432}'],
    ['toJson escapes like Go', '{{ .Vars.html | toJson }}', '"\\u003ca\\u0026b\\u003e"'],
    ['toJson lists and null', '{{ toJson .Vars.sparse }}', '["x",null,"y"]'],
    ['indent', '{{ .Vars.multi | indent 2 }}', '  l1\n  l2'],
    ['nindent', 'x:{{ .Vars.multi | nindent 4 }}', 'x:\n    l1\n    l2'],
    // lenient places for missing values
    ['if on a missing var', '{{ if .Vars.nope }}a{{ else }}b{{ end }}', 'b'],
    ['else if on a missing var', '{{ if .Vars.nope }}a{{ else if .Vars.flag }}f{{ end }}', 'f'],
    ['eq with a missing var in a condition', '{{ if eq .Vars.mode "x" }}a{{ else }}b{{ end }}', 'b'],
    ['with on a missing var', '{{ with .Vars.nope }}{{ . }}{{ else }}none{{ end }}', 'none'],
    ['and with a missing var', '{{ if and .Vars.flag .Vars.nope }}a{{ else }}b{{ end }}', 'b'],
    ['or falls back', '{{ or .Vars.nope "fallback" }}', 'fallback'],
    ['not of a missing var', '{{ not .Vars.nope }}', 'true'],
    ['a missing var stored in a variable', '{{ $p := .Vars.nope }}{{ $p | default "d" }}', 'd'],
    // scoping of dot, $ and variables
    [
      'nested range/with scoping',
      '{{ range $i, $h := .Vars.hosts }}{{ with $h }}{{ .name }}@{{ $.Vars.name }}#{{ $i }} {{ end }}{{ end }}',
      'h1@web#0 h2@web#1 ',
    ],
    [
      'variable assigned in a range',
      '{{ $last := "" }}{{ range .Vars.list }}{{ $last = . }}{{ end }}{{ $last }}',
      'b',
    ],
    [
      'variable declared in if is scoped to it',
      '{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}',
      '21',
    ],
    ['range over an integer', '{{ range 3 }}{{ . }}{{ end }}', '012'],
    ['range else on an empty list', '{{ range .Vars.nul }}x{{ else }}none{{ end }}', 'none'],
    [
      'break and continue',
      '{{ range .Vars.nums }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}',
      '1',
    ],
    ['foreach item and each', '{{ .Item.key }}={{ .Item.value }} {{ .Each.key }}', 'k1=v1 e1'],
    ['traits', '{{ .Traits.os.family }}/{{ .Traits.memory.total_mb }}', 'debian/2048'],
    ['chained field on a parenthesized pipeline', '{{ (index .Vars.hosts 1).ip }}', '10.0.0.2'],
    ['index with a string key on a map', '{{ index .Vars "name" }}', 'web'],
    [
      'printf with width and verbs',
      '{{ printf "%-6s|%4d|%.1f|%q|%v" .Vars.name .Vars.port 2.25 "x" .Vars.list }}',
      'web   |8080|2.2|"x"|[a b]',
    ],
    ['go trims on both sides', 'a \n {{- .Vars.name -}} \n b', 'awebb'],
    ['a lone dash is a number, not a trim', '{{-3}}', '-3'],
    ['comments vanish', 'a{{/* note */}}b{{- /* trimmed */ -}} c', 'abc'],
  ];
  for (const [name, template, want] of cases) {
    it(name, () => assert.equal(render(template), want));
  }

  it('compiles once and renders many times with different data', () => {
    const compiled = compileTemplate('worker_processes {{ .Vars.workers }};', source);
    for (let workers = 1; workers <= 50; workers++) {
      assert.equal(compiled.render({ Vars: { workers } }), `worker_processes ${workers};`);
    }
  });

  it('recognizes template text', () => {
    assert.equal(isTemplate('port {{ .Vars.port }}'), true);
    assert.equal(isTemplate('plain { text }'), false);
  });
});
