/**
 * `vigo enroll --token-file FILE` (and `-` for stdin): the token reaches the agent without being in its
 * arguments; an empty or oversized file, or both --token and --token-file, are usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from './helpers/server-process.ts';
import { cleanCliEnv } from './helpers/vigocli.ts';

const work = makeTempDir('vigo-token-file-');
after(() => work.remove());

const caFile = join(work.path, 'ca.crt');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');

function enroll(extra: string[], input?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      join(repoRoot, 'bin', 'vigo'),
      [
        'enroll',
        '--server',
        '127.0.0.1:1',
        '--ca',
        caFile,
        '--state-dir',
        join(work.path, 'state'),
        ...extra,
      ],
      { env: cleanCliEnv(work.path), timeout: 60_000 },
      (err, _stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

describe('vigo enroll --token-file', () => {
  it('refuses an empty file, an oversized one, and --token with --token-file', async () => {
    const empty = join(work.path, 'empty');
    writeFileSync(empty, '\n');
    const big = join(work.path, 'big');
    writeFileSync(big, 'x'.repeat(5000));
    const cases: [string[], RegExp][] = [
      [['--token-file', empty], /the first line is empty/],
      [['--token-file', big], /larger than 4096 bytes/],
      [['--token-file', join(work.path, 'missing')], /cannot read --token-file/],
      [['--token', 'T', '--token-file', empty], /give --token or --token-file, not both/],
    ];
    for (const [args, message] of cases) {
      const run = await enroll(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });

  it('reads the token from a file or from stdin and goes on to contact the server', async () => {
    const file = join(work.path, 'token');
    writeFileSync(file, 'vget_0123456789abcdef_secret\n');
    for (const [args, input] of [
      [['--token-file', file], undefined],
      [['--token-file', '-'], 'vget_0123456789abcdef_secret\n'],
    ] as const) {
      const run = await enroll([...args], input);
      // Past the token: the CA or the unreachable server is what stops it, not a usage error.
      assert.notEqual(run.code, 2, run.stderr);
      assert.equal(run.stderr.includes('secret'), false, 'the token is not echoed');
    }
  });
});
