import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VigoError } from '../core/index.ts';
import { loadConfig } from './index.ts';
import type { ConfigProblem, LoadedConfig } from './index.ts';

function writeConfig(t: TestContext, text: string): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'server.yaml');
  fs.writeFileSync(file, text);
  return { file, dir };
}

function loadFile(t: TestContext, text: string): LoadedConfig {
  const { file, dir } = writeConfig(t, text);
  return loadConfig({ argv: ['--config', file], env: {}, cwd: dir });
}

function fileError(
  t: TestContext,
  text: string,
): { err: VigoError; file: string; problems: ConfigProblem[] } {
  const { file, dir } = writeConfig(t, text);
  try {
    loadConfig({ argv: ['--config', file], env: {}, cwd: dir });
  } catch (err) {
    assert.ok(err instanceof VigoError, `expected a VigoError, got ${String(err)}`);
    return { err, file, problems: err.details['problems'] as ConfigProblem[] };
  }
  assert.fail('the file was accepted');
}

describe('server.yaml: accepted input', () => {
  it('an empty or comment-only file, or empty sections, change nothing', (t) => {
    for (const text of ['', '# nothing yet\n', 'server:\ncheckin:\n  # later\n']) {
      const loaded = loadFile(t, text);
      assert.ok(
        Object.values(loaded.sources).every((s) => s === 'default'),
        JSON.stringify(text),
      );
    }
  });

  it('relative paths resolve against the directory of the file', (t) => {
    const { file } = writeConfig(t, 'server:\n  data_dir: ./state\n  stacks_dir: stacks\n');
    const loaded = loadConfig({ argv: ['--config', file], env: {}, cwd: '/elsewhere' });
    assert.equal(loaded.config['server.data_dir'], path.join(path.dirname(file), 'state'));
    assert.equal(loaded.config['server.stacks_dir'], path.join(path.dirname(file), 'stacks'));
  });

  it('anchors and aliases resolve', (t) => {
    const loaded = loadFile(t, 'checkin:\n  interval: &every 2m\n  clock_skew: *every\n');
    assert.equal(loaded.config['checkin.clock_skew'], 120_000);
  });
});

describe('server.yaml: unknown keys', () => {
  it('names file, line, the full dotted key and a suggestion', (t) => {
    const { err, file, problems } = fileError(
      t,
      'server:\n  grpc_listen: ":1530"\ncheckin:\n  intervall: 5m\n',
    );
    assert.equal(err.code, 'config.unknown_key');
    assert.equal(
      err.message,
      `${file}:4:3: unknown key "checkin.intervall"; did you mean "checkin.interval"? (vigosrv --help lists every key)`,
    );
    assert.deepEqual(
      problems.map(({ file: f, line, col, key }) => ({ f, line, col, key })),
      [{ f: file, line: 4, col: 3, key: 'checkin.intervall' }],
    );
  });

  it('catches unknown sections and keys at any depth', (t) => {
    const { problems } = fileError(
      t,
      'servr:\n  hostname: x\nlog:\n  level: info\n  style:\n    json: true\n',
    );
    assert.deepEqual(
      problems.map((p) => [p.key, p.line]),
      [
        ['servr', 1],
        ['log.style', 5],
      ],
    );
    assert.match(problems[0]?.message ?? '', /did you mean "server"\?/);
    assert.doesNotMatch(problems[1]?.message ?? '', /did you mean/);
  });

  it('suggests the full key for a leaf written at the wrong level', (t) => {
    const { problems } = fileError(t, 'grpc_listen: ":1530"\n');
    assert.match(
      problems[0]?.message ?? '',
      /unknown key "grpc_listen"; did you mean "server\.grpc_listen"\?/,
    );
  });

  it('rejects dotted keys, asking for nesting', (t) => {
    const { problems } = fileError(t, 'server.grpc_listen: ":1530"\n');
    assert.equal(problems[0]?.code, 'config.unknown_key');
    assert.match(problems[0]?.message ?? '', /nest them/);
  });
});

describe('server.yaml: wrong types', () => {
  const cases: [string, string, number, RegExp][] = [
    [
      'duration',
      'checkin:\n  interval: 5\n',
      2,
      /checkin\.interval: expected a duration .*got 5 \(a number\)/,
    ],
    [
      'listen address',
      'server:\n  grpc_listen: "nope"\n',
      2,
      /server\.grpc_listen: expected a listen address.*"nope"/,
    ],
    ['port range', 'server:\n  api_listen: ":70000"\n', 2, /port 70000 is outside 0-65535/],
    [
      'boolean',
      'checkin:\n  observe_only: "yes"\n',
      2,
      /checkin\.observe_only: expected true or false, got "yes"/,
    ],
    [
      'enum',
      'log:\n  level: verbose\n',
      2,
      /log\.level: expected one of debug, info, warn, error, got "verbose"/,
    ],
    [
      'list',
      'server:\n  tls_sans: a.example\n',
      2,
      /server\.tls_sans: expected a list of DNS names or IP addresses, got "a\.example"/,
    ],
    ['list item', 'server:\n  tls_sans:\n    - ok.example\n    - 12\n', 3, /item 2 is 12 \(a number\)/],
    ['number', 'checkin:\n  stale_factor: 0.5\n', 2, /greater than 1, got 0\.5/],
    ['integer', 'http:\n  max_body_bytes: "1MB"\n', 2, /whole number.*"1MB"/],
    ['bounded integer', 'fleet:\n  convergence_threshold: 101\n', 2, /whole number from 0 to 100, got 101/],
    ['empty value', 'checkin:\n  interval:\n', 2, /expected a duration.*nothing/],
    ['section', 'checkin: 5m\n', 1, /checkin: expected a mapping of checkin\.\* keys, got "5m"/],
  ];
  for (const [name, text, line, pattern] of cases) {
    it(`${name}: names file, line, key, expectation and value`, (t) => {
      const { err, file } = fileError(t, text);
      assert.equal(err.code, 'config.wrong_type');
      assert.ok(err.message.startsWith(`${file}:${String(line)}:`), err.message);
      assert.match(err.message, pattern);
    });
  }

  it('a top level that is not a mapping is an error', (t) => {
    const { err } = fileError(t, '- server\n- checkin\n');
    assert.equal(err.code, 'config.wrong_type');
    assert.match(err.message, /:1:1: the top level must be a mapping.*got a list/);
  });
});

describe('server.yaml: several problems and syntax errors', () => {
  it('reports every problem of the file together, one per line, in file order', (t) => {
    const text = [
      'server:',
      '  grpc_listen: 1530',
      '  hostnme: vigo',
      'checkin:',
      '  interval: 5',
      '  stale_factor: 1',
      'colour: blue',
      '',
    ].join('\n');
    const { err, file, problems } = fileError(t, text);
    assert.equal(err.code, 'config.wrong_type', 'the code is the first problem');
    assert.deepEqual(
      problems.map((p) => [p.line, p.key, p.code]),
      [
        [2, 'server.grpc_listen', 'config.wrong_type'],
        [3, 'server.hostnme', 'config.unknown_key'],
        [5, 'checkin.interval', 'config.wrong_type'],
        [6, 'checkin.stale_factor', 'config.wrong_type'],
        [7, 'colour', 'config.unknown_key'],
      ],
    );
    const lines = err.message.split('\n');
    assert.equal(lines[0], 'the configuration has 5 problems:');
    assert.equal(lines.length, 6);
    assert.ok(lines.slice(1).every((l) => l.startsWith(`${file}:`)));
  });

  it('file and environment problems come in one error', (t) => {
    const { file, dir } = writeConfig(t, 'log:\n  level: loud\n');
    assert.throws(
      () => loadConfig({ argv: ['--config', file], env: { VIGO_SHUTDOWN_BUDGET: 'later' }, cwd: dir }),
      (err: unknown) =>
        err instanceof VigoError &&
        /log\.level/.test(err.message) &&
        /environment variable VIGO_SHUTDOWN_BUDGET/.test(err.message),
    );
  });

  it('tabs used for indentation get a clear error with their position', (t) => {
    const { err, file } = fileError(t, 'checkin:\n\tinterval: 5m\n');
    assert.equal(err.code, 'config.yaml');
    assert.match(err.message, new RegExp(`^${file}:2:1: a tab is used for indentation.*spaces`));
  });

  it('YAML syntax errors name file:line:col', (t) => {
    const { err, file } = fileError(t, 'server:\n  tls_sans: [a.example\nlog:\n  level: info\n');
    assert.equal(err.code, 'config.yaml');
    assert.match(err.message, new RegExp(`^${file}:\\d+:\\d+: YAML: `));
  });

  it('an alias without its anchor is an error, not a crash', (t) => {
    const { err } = fileError(t, 'server:\n  tls_sans: [*nowhere]\n');
    assert.equal(err.code, 'config.yaml');
    assert.match(err.message, /:2:13: server\.tls_sans: YAML: Unresolved alias.*nowhere/);
  });

  it('more than one document is an error', (t) => {
    const { err } = fileError(t, 'log:\n  level: info\n---\nlog:\n  level: debug\n');
    assert.equal(err.code, 'config.yaml');
    assert.match(err.message, /:3:1: server\.yaml must hold one YAML document/);
  });

  it('duplicate keys are an error', (t) => {
    const { err } = fileError(t, 'log:\n  level: info\n  level: debug\n');
    assert.equal(err.code, 'config.yaml');
    assert.match(err.message, /:3:3: YAML: Map keys must be unique/);
  });
});
