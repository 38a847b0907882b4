import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { customExecutor } from './custom.ts';
import type { ExecutorContext } from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(d);
  return d;
}

function makeCtx(customExecutorDir: string, dryRun = false): ExecutorContext {
  return {
    dryRun,
    run: runCommand,
    snapshotFile: async () => {},
    customExecutorDir,
    signal: new AbortController().signal,
  };
}

function install(dir: string, name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  chmodSync(path, mode);
  return path;
}

// A real custom executor: ensures a marker file exists, honouring dry_run, and keeps its input for inspection.
const markerScript = `#!/usr/bin/env node
const fs = require('node:fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.writeFileSync('last-input.json', JSON.stringify(input));
const path = input.params.path;
if (fs.existsSync(path)) {
  console.log(JSON.stringify({ action: 'none', changed: false, error: null }));
} else {
  if (!input.dry_run) fs.writeFileSync(path, input.params.content);
  console.log('creating ' + path);
  console.log(JSON.stringify({ action: 'created', changed: true, error: null, message: 'marker ' + path }));
}
`;

describe('custom executor', () => {
  it('passes params and dry_run on stdin, maps the action, and is idempotent', async () => {
    const dir = tempDir();
    const work = tempDir();
    install(dir, 'ensure_marker', markerScript);
    const params = { executor: 'ensure_marker', params: { path: `${work}/m`, content: 'yes' } };
    const first = await customExecutor.apply(params, makeCtx(dir));
    assert.deepEqual(first, {
      outcome: 'created',
      message: `custom executor ensure_marker: created: marker ${work}/m`,
    });
    assert.equal(readFileSync(join(work, 'm'), 'utf8'), 'yes');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'last-input.json'), 'utf8')), {
      params: { path: `${work}/m`, content: 'yes' },
      dry_run: false,
    });
    const second = await customExecutor.apply(params, makeCtx(dir));
    assert.equal(second.outcome, 'none');
  });

  it('dry run tells the program and reports "would …" without changes', async () => {
    const dir = tempDir();
    const work = tempDir();
    install(dir, 'ensure_marker', markerScript);
    const r = await customExecutor.apply(
      { executor: 'ensure_marker', params: { path: `${work}/m`, content: 'x' } },
      makeCtx(dir, true),
    );
    assert.equal(r.outcome, 'created');
    assert.match(r.message, /^would create \(custom executor ensure_marker\)/);
    assert.equal(existsSync(join(work, 'm')), false);
    const input = JSON.parse(readFileSync(join(dir, 'last-input.json'), 'utf8')) as { dry_run: boolean };
    assert.equal(input.dry_run, true);
  });

  it('sends empty params when none are given', async () => {
    const dir = tempDir();
    install(
      dir,
      'echo_input',
      '#!/bin/sh\ncat > input.json\necho \'{"action":"none","changed":false,"error":null}\'\n',
    );
    const r = await customExecutor.apply({ executor: 'echo_input' }, makeCtx(dir));
    assert.equal(r.outcome, 'none');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')), {
      params: {},
      dry_run: false,
    });
  });

  it('reports the error field, non-zero exits, bad JSON and contradictions as failures', async () => {
    const dir = tempDir();
    install(
      dir,
      'says_error',
      '#!/bin/sh\necho \'{"action":"none","changed":false,"error":"disk quota exceeded"}\'\n',
    );
    install(
      dir,
      'crashes',
      '#!/bin/sh\necho "first problem" >&2\necho "config broken at line 3" >&2\nexit 4\n',
    );
    install(
      dir,
      'exit_with_json',
      '#!/bin/sh\necho \'{"action":"none","changed":false,"error":"db down"}\'\nexit 2\n',
    );
    install(dir, 'not_json', '#!/bin/sh\necho "all good"\n');
    install(dir, 'silent', '#!/bin/sh\nexit 0\n');
    install(dir, 'bad_action', '#!/bin/sh\necho \'{"action":"maybe","changed":true,"error":null}\'\n');
    install(dir, 'contradicts', '#!/bin/sh\necho \'{"action":"none","changed":true,"error":null}\'\n');
    install(dir, 'no_changed', '#!/bin/sh\necho \'{"action":"updated","error":null}\'\n');
    const cases: [string, RegExp][] = [
      ['says_error', /^custom executor says_error: disk quota exceeded$/],
      ['crashes', /exited with 4: first problem \| config broken at line 3$/],
      ['exit_with_json', /exited with 2: db down$/],
      ['not_json', /printed "all good" instead of a JSON object/],
      ['silent', /printed nothing instead of a JSON object/],
      ['bad_action', /"action" must be one of none, created, updated, deleted \(got "maybe"\)/],
      ['contradicts', /"changed": true contradicts "action": "none"/],
      ['no_changed', /"changed" must be true or false/],
    ];
    for (const [name, pattern] of cases) {
      const r = await customExecutor.apply({ executor: name }, makeCtx(dir));
      assert.equal(r.outcome, 'failed', name);
      assert.match(r.message, pattern, name);
    }
  });

  it('kills a program that runs past its timeout', async () => {
    const dir = tempDir();
    install(dir, 'hangs', '#!/bin/sh\nsleep 30\n');
    const started = Date.now();
    const r = await customExecutor.apply({ executor: 'hangs', timeout: 1 }, makeCtx(dir));
    assert.deepEqual(r, { outcome: 'failed', message: 'custom executor hangs timed out after 1s' });
    assert.ok(Date.now() - started < 10_000);
  });

  it('refuses missing, unsafe, non-executable and path-like executors', async () => {
    const dir = tempDir();
    install(
      dir,
      'open_to_all',
      '#!/bin/sh\necho \'{"action":"none","changed":false,"error":null}\'\n',
      0o777,
    );
    install(dir, 'not_exec', '#!/bin/sh\n', 0o644);
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { executor: 'missing' },
        new RegExp(`custom executor "missing" not found: install an executable at ${dir}/missing`),
      ],
      [{ executor: '../../bin/sh' }, /executor name "..\/..\/bin\/sh" is invalid/],
      [{ executor: 'a/b' }, /is invalid: .*no "\/"/],
      [{ executor: 'open_to_all' }, /refusing to run .*writable by group or others/],
      [{ executor: 'not_exec' }, /is not executable/],
      [{ executor: 'x', params: [1] }, /params must be a map/],
      [{ executor: 'x', timeout: -1 }, /timeout must be a whole number/],
    ];
    for (const [params, pattern] of cases) {
      const r = await customExecutor.apply(params, makeCtx(dir));
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
    }
    const relative = await customExecutor.apply({ executor: 'x' }, makeCtx('relative/dir'));
    assert.match(relative.message, /not an absolute path/);
  });
});
