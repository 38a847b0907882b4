/**
 * `npm test` on a machine without a browser: the browser tests are reported as skipped, saying why, and
 * pass; with VIGO_REQUIRE_BROWSER=1 (what CI sets after installing chromium) the same absence fails them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers/server-process.ts';

interface Run {
  code: number | null;
  out: string;
}

function runBrowserTests(env: Record<string, string>): Promise<Run> {
  // Not this runner's own context: the child runs its file as npm test would.
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !entry[0].startsWith('VIGO_') && entry[0] !== 'NODE_TEST_CONTEXT',
    ),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', join('test', 'web', 'ui.test.ts')],
      { cwd: repoRoot, env: { ...clean, ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
          out: stdout + stderr,
        }),
    );
  });
}

describe('browser tests without a browser', () => {
  it('are skipped with the reason, and pass', async () => {
    const run = await runBrowserTests({ VIGO_CHROMIUM_PATH: '/nonexistent/chromium' });
    assert.equal(run.code, 0, run.out);
    // The spec reporter marks a skipped suite with "﹣" and its reason after "#".
    assert.match(run.out, /﹣ .*# no browser at \/nonexistent\/chromium/);
    assert.match(run.out, /fail 0/);
  });

  it('fail when VIGO_REQUIRE_BROWSER=1 asks for them', async () => {
    const run = await runBrowserTests({
      VIGO_CHROMIUM_PATH: '/nonexistent/chromium',
      VIGO_REQUIRE_BROWSER: '1',
    });
    assert.notEqual(run.code, 0, run.out);
    assert.match(run.out, /the browser tests need Chromium at \/nonexistent\/chromium/);
  });
});
