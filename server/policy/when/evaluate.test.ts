import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../../core/index.ts';
import { TRAIT_PATHS, evaluateWhen, parseWhen, partialEvaluateWhen } from './index.ts';
import type { AgentProbes, PartialResult } from './index.ts';

const source = { file: 'stacks/app.vgo', line: 7, col: 13 };

/** Wednesday 3 January 2024, 23:30 local time. */
const fixedNow = new Date(2024, 0, 3, 23, 30);

function makeProbes(now = fixedNow): AgentProbes & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fileExists: (p) => (calls.push(`file:${p}`), p === '/etc/app.conf'),
    dirExists: (p) => (calls.push(`dir:${p}`), p === '/srv/app'),
    processRunning: (name) => (calls.push(`proc:${name}`), name === 'nginx'),
    commandSucceeds: (cmd) => (calls.push(`cmd:${cmd}`), cmd === 'true'),
    now: () => now,
  };
}

const vars = {
  env: 'prod',
  workers: '8',
  port: 8080,
  ratio: 0.5,
  flag: true,
  yes: 'yes',
  name: 'web',
  db: { port: 5432 },
  list: ['a'],
};
const traits = {
  os: { family: 'Debian', distro: 'Ubuntu', version: '22.04' },
  arch: 'x86_64',
  container: { is_container: false },
  memory: { total_mb: 4096 },
  cpu: { count: 4 },
};

function evaluate(text: string, probes = makeProbes(), t: Record<string, unknown> = traits): boolean {
  return evaluateWhen(parseWhen(text, source), { vars, traits: t, probes });
}

function evalError(text: string): string {
  try {
    evaluate(text);
  } catch (err) {
    assert.ok(isVigoError(err));
    assert.equal(err.code, 'policy.when_eval');
    return err.message;
  }
  assert.fail(`expected ${text} to fail`);
}

describe('when: comparisons and truth', () => {
  const cases: Array<[string, boolean]> = [
    ['vars.env == "prod"', true],
    ["env != 'dev'", true],
    ['workers > 4', true], // numeric string against a number compares numerically
    ['workers == 8', true],
    ['workers == "8"', true],
    ['"10" > "9"', true], // two numeric strings order numerically
    ['"abc" < "abd"', true],
    ['"08" == "8"', false], // two strings compare exactly for equality
    ['port >= 8080 && port < 9000', true],
    ['ratio == 0.5', true],
    ['flag == true', true],
    ['flag == "true"', true],
    ['yes', true],
    ['!flag', false],
    ['list', true],
    ['db.port == 5432', true],
    ['traits.cpu.count >= 4', true],
    ['traits.gpu.count > 0', false], // an absent trait is null: every ordering is false
    ['traits.gpu.count == 0', false],
    ['traits.gpu.count != 0', true],
    ['!traits.gpu', true],
    ['1 < 2 == true', false], // comparisons do not chain; parenthesized below
  ];
  for (const [text, want] of cases.slice(0, -1)) {
    it(`${text} is ${want}`, () => assert.equal(evaluate(text), want));
  }

  const errors: Array<[string, RegExp]> = [
    ['port == "abc"', /cannot compare number 8080 with string "abc"/],
    ['flag < true', /booleans have no order/],
    ['list == 1', /cannot compare a list/],
    ['name', /string "web" is not true or false: compare it, e.g. == "web"/],
    [
      'vars.nope == 1',
      /^stacks\/app\.vgo:7:13: var "nope" is not defined \(defined vars: db, env, flag, list, name, port, ratio, workers, yes\)/,
    ],
    ['vars.nmae == "x"', /var "nmae" is not defined; did you mean "name"\?/],
    ['db.host == "x"', /vars\.db has no key "host" \(it has: port\)/],
    ['name.first == "x"', /vars\.name is string "web", so it has no "\.first"/],
  ];
  for (const [text, pattern] of errors) {
    it(`refuses ${text}`, () => assert.match(evalError(text), pattern));
  }

  it('points evaluation errors at the offending node with a caret', () => {
    assert.equal(
      evalError('flag && port == "abc"'),
      'stacks/app.vgo:7:21: cannot compare number 8080 with string "abc"\n  flag && port == "abc"\n          ^',
    );
  });
});

describe('when: builtins', () => {
  const cases: Array<[string, boolean]> = [
    ['os_family("debian")', true],
    ['os_family("RHEL")', false],
    ['distro("ubuntu")', true],
    ['arch("amd64")', true],
    ['arch("x86_64")', true],
    ['arch("arm64")', false],
    ['version_ge("22.04")', true],
    ['version_ge("22.4")', true],
    ['version_ge("22.10")', false],
    ['version_ge(20)', true],
    ['is_container', false],
    ['!is_container()', true],
    ['has_enough_ram(4096)', true],
    ['has_enough_ram("8192")', false],
    ['file_exists("/etc/app.conf")', true],
    ['file_exists("/etc/other")', false],
    ['dir_exists("/srv/app")', true],
    ['process_running("nginx")', true],
    ['command_succeeds("true")', true],
    ['command_succeeds("false")', false],
    ['hour_range(22, 6)', true], // wraps past midnight
    ['hour_range(8, 17)', false],
    ['hour_range(23, 23)', true],
    ['minute_range(15, 45)', true],
    ['minute_range(50, 10)', false],
    ['day_of_week("wed")', true],
    ['day_of_week("Wednesday")', true],
    ['day_of_week(3)', true],
    ['day_of_week("mon-fri")', true],
    ['day_of_week("sat", "sun")', false],
    ['day_of_week("fri-mon")', false],
    ['day_of_week("mon,wed,fri")', true],
    ['day_of_month(3)', true],
    ['day_of_month("1,15")', false],
    ['day_of_month("1-7")', true],
  ];
  for (const [text, want] of cases) {
    it(`${text} is ${want}`, () => assert.equal(evaluate(text), want));
  }

  it('reads traits at the documented paths, nested or flattened', () => {
    assert.equal(TRAIT_PATHS.osFamily, 'os.family');
    const flat = { 'os.family': 'rhel', 'memory.total_mb': 512, arch: 'aarch64' };
    assert.equal(
      evaluate('os_family("rhel") && arch("arm64") && !has_enough_ram(1024)', makeProbes(), flat),
      true,
    );
  });

  it('treats absent traits as not matching', () => {
    assert.equal(
      evaluate(
        'os_family("debian") || version_ge("1") || is_container || has_enough_ram(1)',
        makeProbes(),
        {},
      ),
      false,
    );
  });

  it('short-circuits so unneeded probes never run', () => {
    const probes = makeProbes();
    assert.equal(evaluate('vars.env == "dev" && command_succeeds("true")', probes), false);
    assert.equal(evaluate('file_exists("/etc/app.conf") || command_succeeds("x")', probes), true);
    assert.deepEqual(probes.calls, ['file:/etc/app.conf']);
  });

  it('checks arguments computed from vars at evaluation', () => {
    const expr = parseWhen('hour_range(vars.start, 6)', source);
    assert.throws(
      () => partialEvaluateWhen(expr, { vars: { start: 30 } }),
      (err: unknown) =>
        isVigoError(err) &&
        err.code === 'policy.when_eval' &&
        /hour_range: an hour must be a whole number from 0 to 23, got number 30/.test(err.message),
    );
  });

  it('refuses to evaluate when: changed', () => {
    assert.throws(() => evaluate('changed'), /decided by notifications/);
    assert.deepEqual(partialEvaluateWhen(parseWhen('changed', source), { vars }), {
      kind: 'residual',
      text: 'changed',
    });
  });
});

describe('when: partial evaluation', () => {
  const cases: Array<[string, boolean, PartialResult]> = [
    // [text, with traits?, result]
    ['vars.env == "prod"', false, { kind: 'true' }],
    ['env == "dev" && file_exists("/x")', false, { kind: 'false' }],
    ['file_exists("/x") && env == "dev"', false, { kind: 'false' }],
    ['env == "prod" || command_succeeds("x")', false, { kind: 'true' }],
    ['env == "prod" && file_exists("/x")', false, { kind: 'residual', text: 'file_exists("/x")' }],
    [
      'file_exists(vars.path) && !dir_exists("/d")',
      false,
      { kind: 'residual', text: 'file_exists("/etc/app.conf") && !dir_exists("/d")' },
    ],
    ['os_family("debian") && port > 80', false, { kind: 'residual', text: 'os_family("debian")' }],
    ['os_family("debian") && port > 80', true, { kind: 'true' }],
    ['traits.cpu.count >= vars.min_cpu', false, { kind: 'residual', text: 'traits.cpu.count >= 2' }],
    ['traits.cpu.count >= vars.min_cpu', true, { kind: 'true' }],
    ['traits.cpu.count && file_exists("/x")', true, { kind: 'residual', text: 'file_exists("/x")' }],
    [
      'file_exists("/x") && traits.cpu.count',
      false,
      { kind: 'residual', text: 'file_exists("/x") && traits.cpu.count' },
    ],
    ['vars.flag && traits.cpu.count', false, { kind: 'residual', text: '!!traits.cpu.count' }],
    [
      'hour_range(vars.start, 6) || process_running(name)',
      false,
      { kind: 'residual', text: 'hour_range(22, 6) || process_running("web")' },
    ],
    ['!(env == "prod") || is_container', false, { kind: 'residual', text: 'is_container()' }],
    ['!(file_exists("/a") && env == "prod")', false, { kind: 'residual', text: '!file_exists("/a")' }],
  ];
  const env = { ...vars, path: '/etc/app.conf', min_cpu: 2, start: 22 };
  for (const [text, withTraits, want] of cases) {
    it(`${text}${withTraits ? ' (with traits)' : ''}`, () => {
      const expr = parseWhen(text, source);
      const result = partialEvaluateWhen(expr, withTraits ? { vars: env, traits } : { vars: env });
      assert.deepEqual(result, want);
      if (result.kind !== 'residual') return;
      // The residual round-trips: it parses, needs no vars, and decides like the original.
      const residual = parseWhen(result.text, { file: '<agent>', line: 1, col: 1 });
      assert.equal(residual.varsUsed.size, 0);
      for (const probes of [makeProbes(), makeProbes(new Date(2024, 0, 6, 9, 0))]) {
        const full = evaluateWhen(expr, { vars: env, traits, probes });
        assert.equal(evaluateWhen(residual, { vars: {}, traits, probes }), full);
      }
    });
  }

  it('reports a missing var at publish, even beside an agent-side call', () => {
    assert.throws(
      () =>
        partialEvaluateWhen(parseWhen('file_exists("/a") && vars.app_port > 0', source), {
          vars: { app_tag: 'x' },
        }),
      (err: unknown) =>
        isVigoError(err) &&
        err.code === 'policy.when_eval' &&
        err.message.startsWith('stacks/app.vgo:7:34: var "app_port" is not defined (defined vars: app_tag)'),
    );
  });

  it('refuses to hand a list to the agent', () => {
    const compared = parseWhen('traits.os.family == vars.list', source);
    assert.throws(() => partialEvaluateWhen(compared, { vars }), /a list cannot be passed on to the agent/);
    const passed = parseWhen('file_exists(vars.list)', source);
    assert.throws(
      () => partialEvaluateWhen(passed, { vars }),
      /file_exists: expected a non-empty string, got a list/,
    );
  });

  it('accepts a WhenExpr that did not come from parseWhen by re-reading its text', () => {
    const foreign = {
      text: 'vars.env == "prod"',
      isChangedOnly: false,
      needsAgent: false,
      usesTraits: false,
      varsUsed: new Set(['env']),
    };
    assert.deepEqual(partialEvaluateWhen(foreign, { vars }), { kind: 'true' });
  });
});
