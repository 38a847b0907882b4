import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../../core/index.ts';
import { evaluateWhen, parseWhen, partialEvaluateWhen } from './index.ts';
import type { AgentProbes, WhenSource } from './index.ts';

const source: WhenSource = { file: 'stacks/web.vgo', line: 14, col: 11 };
const noProbes: AgentProbes = {
  fileExists: () => false,
  dirExists: () => false,
  processRunning: () => false,
  commandSucceeds: () => false,
  now: () => new Date(2024, 0, 3, 12, 0),
};

/** The canonical text (what partial evaluation hands the agent) shows how an expression parsed. */
function canonical(text: string): string {
  const result = partialEvaluateWhen(parseWhen(text, source), { vars: {} });
  assert.equal(result.kind, 'residual');
  return result.kind === 'residual' ? result.text : '';
}

describe('when: parsing', () => {
  const shapes: Array<[string, string]> = [
    ['traits.a || traits.b && !traits.c', 'traits.a || traits.b && !traits.c'],
    ['(traits.a || traits.b) && traits.c', '(traits.a || traits.b) && traits.c'],
    ['traits.a || (traits.b || traits.c)', 'traits.a || (traits.b || traits.c)'],
    ['!(traits.a == 1)', '!(traits.a == 1)'],
    ['!traits.a == true', '!traits.a == true'],
    ['.Traits.os.family != "debian"', 'traits.os.family != "debian"'],
    ["traits.name == 'it\\'s'", 'traits.name == "it\'s"'],
    ['traits.msg == "say \\"hi\\"\\n"', 'traits.msg == "say \\"hi\\"\\n"'],
    ['traits.disks.0.size_gb >= -1.5', 'traits.disks.0.size_gb >= -1.5'],
    ['is_container', 'is_container()'],
    ['!is_container()&&os_family( "debian" )', '!is_container() && os_family("debian")'],
    ['day_of_week("sat", "sun")', 'day_of_week("sat", "sun")'],
    ['((traits.x))', 'traits.x'],
  ];
  for (const [text, want] of shapes) {
    it(`parses ${text}`, () => assert.equal(canonical(text), want));
  }

  it('gives && precedence over || and ! precedence over both', () => {
    const expr = parseWhen('a || b && !c', source);
    const truth = (a: boolean, b: boolean, c: boolean): boolean =>
      evaluateWhen(expr, { vars: { a, b, c }, traits: {}, probes: noProbes });
    assert.equal(truth(false, true, false), true);
    assert.equal(truth(false, true, true), false);
    // (a || b) && !c would be false here
    assert.equal(truth(true, false, true), true);
  });

  it('reads vars written three ways', () => {
    for (const text of ['vars.port > 1024', '.Vars.port > 1024', 'port > 1024']) {
      const expr = parseWhen(text, source);
      assert.deepEqual([...expr.varsUsed], ['port'], text);
      assert.deepEqual(partialEvaluateWhen(expr, { vars: { port: 8080 } }), { kind: 'true' }, text);
    }
  });

  it('recognizes when: changed', () => {
    const expr = parseWhen(' changed ', source);
    assert.equal(expr.isChangedOnly, true);
    assert.equal(expr.needsAgent, false);
    assert.equal(parseWhen('changed_flag', source).isChangedOnly, false);
  });

  const facts: Array<[string, boolean, boolean, string[]]> = [
    // [text, needsAgent, usesTraits, varsUsed]
    ['vars.env == "prod"', false, false, ['env']],
    ['os_family("debian") && tier > 2', false, true, ['tier']],
    ['traits.cpu.count >= vars.min_cpu', false, true, ['min_cpu']],
    ['file_exists(vars.conf_path) || is_container', true, true, ['conf_path']],
    ['hour_range(1, 5)', true, false, []],
    ['vars.db.port == 5432', false, false, ['db']],
  ];
  for (const [text, needsAgent, usesTraits, varsUsed] of facts) {
    it(`classifies ${text}`, () => {
      const expr = parseWhen(text, source);
      assert.equal(expr.needsAgent, needsAgent, 'needsAgent');
      assert.equal(expr.usesTraits, usesTraits, 'usesTraits');
      assert.deepEqual([...expr.varsUsed].sort(), varsUsed, 'varsUsed');
      assert.equal(expr.text, text);
    });
  }
});

describe('when: syntax errors', () => {
  function syntaxError(
    text: string,
    at = source,
  ): { message: string; details: Readonly<Record<string, unknown>> } {
    try {
      parseWhen(text, at);
    } catch (err) {
      assert.ok(isVigoError(err));
      assert.equal(err.code, 'policy.when_syntax');
      return { message: err.message, details: err.details };
    }
    assert.fail(`expected ${text} not to parse`);
  }

  // [text, column offset in the expression, reason]
  const cases: Array<[string, number, string]> = [
    ['os_famly("debian")', 0, 'unknown function "os_famly" (did you mean "os_family"?)'],
    ['vars.a && frobnicate(1)', 10, 'unknown function "frobnicate"'],
    ['hour_range(1)', 0, 'hour_range takes 2 arguments, got 1: hour_range(22, 6)'],
    ['is_container(1)', 0, 'is_container takes no arguments, got 1: is_container'],
    [
      'os_family',
      0,
      'os_family is a function and takes 1 argument: os_family("debian") (a var of that name is vars.os_family)',
    ],
    ['hour_range(25, 3)', 11, 'hour_range: an hour must be a whole number from 0 to 23, got number 25'],
    [
      'day_of_week("funday")',
      12,
      'day_of_week: unknown day "funday": use mon, tue, … sun, or 0-6 with 0 = Sunday',
    ],
    [
      'version_ge(22.10)',
      11,
      'version_ge: write the version as a string, e.g. "22.1": as a number 22.10 would read as 22.1',
    ],
    ['vars.a ==', 9, 'expression ends too early: a value is missing'],
    ['vars.a = 1', 7, 'unexpected "=": compare with "=="'],
    ['vars.a & vars.b', 7, 'unexpected "&": "and" is written "&&"'],
    ['vars.a vars.b', 7, 'unexpected "vars" after the expression: missing && or ||?'],
    ['(vars.a || vars.b', 17, 'expected ")" to close the "(" here, found end of expression'],
    ['vars.a < vars.b < 3', 16, 'comparisons do not chain: add parentheses'],
    ['"open', 0, 'unterminated string: add the closing "'],
    [
      'changed && vars.a',
      0,
      '"changed" must stand alone (when: changed); it cannot be combined with other conditions',
    ],
    ['.Foo.x', 1, 'after a leading ".", write .Vars.<name> or .Traits.<path>'],
    ['traits', 0, 'write traits.<name>'],
    ['vars.', 5, 'expected a name after ".", found end of expression'],
    ['', 0, 'empty expression'],
    ['12abc', 0, 'bad number "12a"'],
    ['file_exists("/a" "/b")', 17, 'expected "," or ")" in the call to file_exists, found string "/b"'],
  ];
  for (const [text, offset, reason] of cases) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const { message, details } = syntaxError(text);
      const col = source.col + offset;
      assert.equal(message, `stacks/web.vgo:14:${col}: ${reason}\n  ${text}\n  ${' '.repeat(offset)}^`);
      assert.deepEqual(details, { file: 'stacks/web.vgo', line: 14, col, reason });
    });
  }

  it('points into later lines of a multi-line expression', () => {
    const { details, message } = syntaxError('vars.a &&\n  nope(1)', { file: 'w.vgo', line: 3, col: 9 });
    assert.deepEqual([details.line, details.col], [4, 11]);
    assert.ok(message.endsWith('\n    nope(1)\n    ^'), message);
  });
});
