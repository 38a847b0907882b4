import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../../core/index.ts';
import { compileTemplate } from './index.ts';
import type { TemplateData, TemplateSource } from './index.ts';

const file = 'templates/nginx.conf.tmpl';
const atStart: TemplateSource = { file, line: 1, col: 1 };
const data: TemplateData = {
  Vars: { app_workers: 2, app_tag: 'v1', db: { host: 'h' }, list: ['a'], nul: null, s: 'x' },
  Traits: { os: { family: 'debian' } },
};

function failure(fn: () => unknown): { message: string; details: Readonly<Record<string, unknown>> } {
  try {
    fn();
  } catch (err) {
    assert.ok(isVigoError(err), `expected a VigoError, got ${String(err)}`);
    assert.equal(err.code, 'policy.template');
    return { message: err.message, details: err.details };
  }
  assert.fail('expected an error');
}

const compileError = (text: string, source = atStart) => failure(() => compileTemplate(text, source));
const renderError = (text: string, input = data, source = atStart) =>
  failure(() => compileTemplate(text, source).render(input));

describe('template syntax errors', () => {
  const cases: Array<[string, string, string]> = [
    [
      'unknown function with a suggestion',
      '\n'.repeat(11) + '      {{uppr .Vars.name}}',
      `${file}:12:9: unknown function "uppr" (did you mean "upper"?)`,
    ],
    ['unexpected end', 'a\nb\n    {{end}}', `${file}:3:5: unexpected {{end}}: no open if/range/with`],
    ['unexpected else', '{{ else }}', `${file}:1:1: unexpected {{else}}: no open if/range/with`],
    [
      'unclosed if points at the if',
      'x\n  {{ if .Vars.s }}\nbody',
      `${file}:2:3: unclosed {{if}}: add {{end}}`,
    ],
    [
      'second else',
      '{{ if 1 }}{{ else }}{{ else }}{{ end }}',
      `${file}:1:21: unexpected {{else}}: this {{if}} already has an {{else}}`,
    ],
    [
      'else if in range',
      '{{ range .Vars.list }}{{ else if 1 }}{{ end }}',
      `${file}:1:23: {{else if}} is only allowed inside {{if}}`,
    ],
    ['break outside range', '{{ break }}', `${file}:1:1: {{break}} outside {{range}}`],
    ['undefined variable', 'a {{ $x }}', `${file}:1:6: undefined variable "$x"`],
    [
      'assignment before declaration',
      '{{ $x = 1 }}',
      `${file}:1:4: undefined variable "$x": declare it with ":=" first`,
    ],
    [
      'variable used after its scope',
      '{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}',
      `${file}:1:36: undefined variable "$x"`,
    ],
    ['arity', '{{ upper "a" "b" }}', `${file}:1:4: wrong number of arguments for upper: want 1, got 2`],
    [
      'arity with a piped value',
      '{{ "a" | upper "b" }}',
      `${file}:1:10: wrong number of arguments for upper: want 1, got 2 (the piped value counts as the last argument)`,
    ],
    [
      'piping into a field',
      '{{ .Vars.s | .Vars.s }}',
      `${file}:1:14: only a function can receive a piped value, not .Vars.s`,
    ],
    [
      'argument to a field',
      '{{ .Vars.s "x" }}',
      `${file}:1:12: can't give an argument to non-function .Vars.s`,
    ],
    ['nil command', '{{ nil }}', `${file}:1:4: nil is not a command`],
    [
      'hyphen in a key',
      '{{ .Vars.app-port }}',
      `${file}:1:13: bad character "-" in name (a key containing "-" needs index, e.g. {{ index .Vars "app-port" }})`,
    ],
    ['comment not at the delimiter', '{{ /* c */ }}', `${file}:1:4: unexpected character "/" in action`],
    [
      'text after a comment',
      '{{/* c */ x }}',
      `${file}:1:10: comment ends before closing delimiter: write "*/}}"`,
    ],
    ['unclosed comment', 'ok\n{{/* c ', `${file}:2:1: unclosed comment: add "*/}}"`],
    ['unterminated string', '{{ "abc }}', `${file}:1:4: unterminated quoted string`],
    ['unclosed action', 'x {{ .Vars.s ', `${file}:1:3: unclosed action: missing "}}"`],
    ['unclosed paren', '{{ (upper "a" }}', `${file}:1:4: unclosed left paren`],
    ['trailing pipe', '{{ 1 | }}', `${file}:1:8: missing command after "|"`],
    ['empty action', '{{ }}', `${file}:1:4: missing value for command`],
    ['bad number', '{{ 12abc }}', `${file}:1:4: bad number syntax: "12a"`],
    ['bad escape', '{{ "\\q" }}', `${file}:1:4: invalid escape "\\q" in string literal`],
    [
      'three range variables',
      '{{ range $i, $v, $w := .Vars.list }}{{ end }}',
      `${file}:1:16: range can only declare "$index, $element :="`,
    ],
    [
      'template action',
      '{{ template "x" }}',
      `${file}:1:4: {{template}} is not supported in Vigo templates: each template is one file, so put shared text in vars`,
    ],
    [
      'unknown root field',
      '{{ .vars.x }}',
      `${file}:1:4: unknown field ".vars": did you mean ".Vars"? the template data has .Vars, .Traits, .Item and .Each`,
    ],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.equal(compileError(text).message, want));
  }

  it('maps positions into the file for a YAML block scalar that starts at line 10, column 7', () => {
    // In the file every line of the block is indented 6 spaces; YAML hands us the text without them.
    const text = 'server {\n  listen {{ .Vars.port }};\n  name {{ lowr .Vars.name }};\n}';
    const { message, details } = compileError(text, { file: 'stacks/web.vgo', line: 10, col: 7 });
    assert.equal(message, 'stacks/web.vgo:12:17: unknown function "lowr" (did you mean "lower"?)');
    assert.deepEqual(details, {
      file: 'stacks/web.vgo',
      line: 12,
      col: 17,
      reason: 'unknown function "lowr" (did you mean "lower"?)',
    });
  });

  it('counts the start column on the first line of an inline value', () => {
    const { details } = compileError('x {{ end }}', { file: 'stacks/a.vgo', line: 4, col: 15 });
    assert.deepEqual([details.line, details.col], [4, 17]);
  });
});

describe('template render errors (strict about missing values)', () => {
  const cases: Array<[string, string, string]> = [
    [
      'undefined var',
      'port {{ .Vars.app_port }}',
      `${file}:1:9: var "app_port" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'undefined var with a suggestion',
      '{{ .Vars.app_workrs }}',
      `${file}:1:4: var "app_workrs" is not defined; did you mean "app_workers"? (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'missing nested key',
      '{{ .Vars.db.port }}',
      `${file}:1:4: key "port" is not set in .Vars.db (it has: host)`,
    ],
    [
      'missing trait',
      '{{ .Traits.os.famly }}',
      `${file}:1:4: trait "os.famly" is not reported by this envoy; did you mean "family"? (.Traits.os has: family)`,
    ],
    [
      'missing top-level trait',
      '{{ .Traits.cpu }}',
      `${file}:1:4: trait "cpu" is not reported by this envoy (traits: os)`,
    ],
    ['item outside foreach', '{{ .Item }}', `${file}:1:4: .Item is only set inside a foreach`],
    [
      'printing null',
      '{{ .Vars.nul }}',
      `${file}:1:4: {{ .Vars.nul }} is null; give it a value or write {{ .Vars.nul | default "…" }}`,
    ],
    ['field of null', '{{ .Vars.nul.x }}', `${file}:1:4: .Vars.nul is null, so it has no field "x"`],
    [
      'field of a list',
      '{{ .Vars.list.x }}',
      `${file}:1:4: can't read field "x" of .Vars.list: it is a list, not a map (to pick an item write {{ index .Vars.list 0 }})`,
    ],
    [
      'missing var passed to a function',
      '{{ upper .Vars.nope }}',
      `${file}:1:10: var "nope" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'missing var piped to a function',
      '{{ .Vars.nope | upper }}',
      `${file}:1:4: var "nope" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'missing var in range',
      '{{ range .Vars.nope }}x{{ end }}',
      `${file}:1:10: var "nope" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'missing var ordered in a condition',
      '{{ if gt .Vars.nope 5 }}x{{ end }}',
      `${file}:1:10: var "nope" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'missing var through a variable',
      '{{ $p := .Vars.nope }}{{ $p }}',
      `${file}:1:10: var "nope" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'or of two missing vars',
      '{{ or .Vars.a .Vars.b }}',
      `${file}:1:15: var "b" is not defined (defined vars: app_tag, app_workers, db, list, nul, s)`,
    ],
    [
      'string vs number',
      '{{ eq .Vars.app_tag 1 }}',
      `${file}:1:4: eq: incompatible types for comparison: string "v1" and number 1 (a quoted YAML value is a string: compare with a quoted literal, or drop the quotes in the var)`,
    ],
    ['len of a number', '{{ len 3 }}', `${file}:1:4: len: len of number 3: len takes a string, list or map`],
    [
      'index out of range',
      '{{ index .Vars.list 5 }}',
      `${file}:1:4: index: index out of range: 5 (length 1)`,
    ],
    [
      'index of a missing key',
      '{{ index .Vars.db "nope" }}',
      `${file}:1:4: index: key "nope" is not set (the map has: host)`,
    ],
    [
      'join without a list',
      '{{ join .Vars.s "," }}',
      `${file}:1:4: join: needs a list and a separator, got a string and a string`,
    ],
    [
      'range over a string',
      '{{ range .Vars.s }}{{ end }}',
      `${file}:1:10: range can't iterate over a string (x)`,
    ],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.equal(renderError(text).message, want));
  }

  it('says when traits were not supplied', () => {
    const { message } = renderError('{{ .Traits.os.family }}', { Vars: {} });
    assert.equal(
      message,
      `${file}:1:4: .Traits is not available: this template was rendered without the envoy's traits`,
    );
  });

  it('reports render errors at the file position of a template that starts mid-file', () => {
    const { details } = renderError('a: 1\nb: {{ .Vars.nope }}', data, {
      file: 'stacks/x.vgo',
      line: 20,
      col: 9,
    });
    assert.deepEqual([details.file, details.line, details.col], ['stacks/x.vgo', 21, 15]);
  });

  it('lists no vars when none are defined', () => {
    assert.match(
      renderError('{{ .Vars.x }}', { Vars: {} }).message,
      /var "x" is not defined \(no vars are defined\)$/,
    );
  });
});
