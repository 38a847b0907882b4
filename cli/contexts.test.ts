/**
 * The contexts file: what parses, what is refused (and why), limits, permissions, and how settings pick
 * server, CA and token from flags, environment, named and current contexts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError } from './errors.ts';
import { contextLimits, parseContextsFile, readContexts, withContext, writeContexts } from './contexts.ts';
import { chooseOutputFormat, renderData } from './output.ts';
import { flattenForDisplay, isSummarised } from './format.ts';
import { splitArgv } from './argv.ts';
import type { FlagSpec } from './argv.ts';
import { resolveSettings } from './settings.ts';
import type { GlobalOptions } from './settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-contexts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A throwaway self-signed certificate, made with openssl as an operator would. */
const caFile = join(dir, 'ca.crt');
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    caFile,
  ],
  { stdio: 'ignore' },
);
const caPem = readFileSync(caFile, 'utf8');

/** What parseContextsFile says is wrong, or "accepted". */
function problemOf(value: unknown): string {
  const parsed = parseContextsFile(value);
  return typeof parsed === 'string' ? parsed : 'accepted';
}

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CliError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('contexts file', () => {
  it('accepts what vigocli writes and refuses anything else with the reason', () => {
    const good = {
      current: 'prod',
      contexts: { prod: { server: 'https://vigo:8443/', caPem, token: 'vgot_x' } },
    };
    assert.deepEqual(parseContextsFile(good), good);
    assert.deepEqual(parseContextsFile({ current: null, contexts: {} }), { current: null, contexts: {} });
    const bad: [unknown, RegExp][] = [
      [[], /not a JSON object/],
      [{ current: null }, /"contexts" is not an object/],
      [{ current: 'x', contexts: {} }, /"current" names no context/],
      [{ current: null, contexts: { '-a': { server: 'https://x' } } }, /context names are/],
      [{ current: null, contexts: { a: { server: 'https://x', extra: 1 } } }, /unknown fields: extra/],
      [{ current: null, contexts: { a: { server: 'ftp://x' } } }, /not an https/],
      [{ current: null, contexts: { a: { server: 'https://x', token: 'a b' } } }, /not a token/],
      [
        { current: null, contexts: { a: { server: 'https://x', caPem: `${'x'.repeat(70_000)}` } } },
        /larger than/,
      ],
      [
        {
          current: null,
          contexts: {
            a: {
              server: 'https://x',
              caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
            },
          },
        },
        /not a readable certificate/,
      ],
    ];
    for (const [value, message] of bad) assert.match(problemOf(value), message);
    const many = Object.fromEntries(
      Array.from({ length: contextLimits.maxContexts + 1 }, (_, i) => [`c${i}`, { server: 'https://x' }]),
    );
    assert.match(problemOf({ current: null, contexts: many }), /more than 100 contexts/);
  });

  it('writes 0600 in a 0700 directory, reads it back, and refuses a loose mode, a directory and a large file', () => {
    const file = join(dir, 'cfg', 'vigo', 'contexts.json');
    assert.deepEqual(readContexts(file), { current: null, contexts: {} }, 'no file is no contexts');
    writeContexts(
      file,
      withContext({ current: null, contexts: {} }, 'prod', { server: 'https://vigo/', caPem }, false),
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'cfg', 'vigo')).mode & 0o777, 0o700);
    assert.equal(readContexts(file).current, 'prod', 'the first context saved becomes current');
    chmodSync(file, 0o640);
    const loose = refusal(() => readContexts(file));
    assert.deepEqual([loose.exitCode, loose.code], [4, 'cli.credentials']);
    chmodSync(file, 0o600);
    writeFileSync(file, ' '.repeat(contextLimits.maxFileBytes + 1));
    assert.match(refusal(() => readContexts(file)).message, /larger than 1048576 bytes/);
    const notFile = refusal(() => readContexts(join(dir, 'cfg', 'vigo')));
    assert.deepEqual([notFile.code, /not a regular file/.test(notFile.message)], ['cli.context_file', true]);
  });

  it('picks each setting from flag, environment, named context, current context, default', () => {
    const config = join(dir, 'pick');
    const file = join(config, 'vigo', 'contexts.json');
    let saved = withContext(
      { current: null, contexts: {} },
      'a',
      { server: 'https://a:8443/', caPem, token: 'vgot_a' },
      true,
    );
    saved = withContext(saved, 'b', { server: 'https://b:8443/', caPem, token: 'vgot_b' }, false);
    writeContexts(file, saved);
    const options = {
      server: undefined,
      ca: undefined,
      dataDir: dir,
      system: false,
      token: undefined,
      context: undefined,
    };
    const settings = (o: Partial<GlobalOptions>, env: Record<string, string> = {}) =>
      resolveSettings({ ...options, ...o }, { env: { XDG_CONFIG_HOME: config, ...env }, cwd: dir });

    const current = settings({});
    assert.deepEqual(
      [current.server().url.host, current.credential().token, current.ca().source],
      ['a:8443', 'vgot_a', 'context'],
    );
    const named = settings({}, { VIGO_CONTEXT: 'b' });
    assert.deepEqual([named.server().url.host, named.credential().token], ['b:8443', 'vgot_b']);
    const flagWins = settings({ context: 'a' }, { VIGO_CONTEXT: 'b' });
    assert.equal(flagWins.credential().token, 'vgot_a');
    const envToken = settings({}, { VIGO_TOKEN: 'vgot_env' });
    assert.deepEqual([envToken.credential().source, envToken.server().url.host], ['env', 'a:8443']);
    const sameServer = settings({ server: 'https://a:8443' });
    assert.equal(sameServer.credential().source, 'context', 'the same server keeps its context');
    const otherServer = settings({ ca: caFile }, { VIGO_SERVER: 'https://elsewhere:8443' });
    assert.equal(otherServer.activeContext(), undefined);
    assert.equal(
      refusal(() => otherServer.credential()).code,
      'cli.credentials',
      "a context's token never goes to another server",
    );
    const unknown = refusal(() => settings({ context: 'nosuch' }).server());
    assert.deepEqual([unknown.exitCode, unknown.code], [2, 'cli.context_unknown']);
    assert.equal(settings({ context: 'nosuch' }).explicitContext, 'nosuch');
    assert.equal(
      settings({ server: 'https://x', context: 'nosuch' }).withoutContexts().server().url.host,
      'x',
    );

    // The local-admin token on this host never goes to a server that a context names.
    writeContexts(file, withContext(saved, 'bare', { server: 'https://remote:8443/', caPem }, true));
    writeFileSync(join(dir, 'local-admin.token'), 'vgla_local\n', { mode: 0o600 });
    const bare = refusal(() => settings({}).credential());
    assert.deepEqual(
      [bare.code, /no credential for context bare/.test(bare.message)],
      ['cli.credentials', true],
    );
    const local = settings({ server: 'https://localhost:8443' }).credential();
    assert.deepEqual([local.source, local.token], ['local-admin-file', 'vgla_local']);
  });
});

describe('output formats', () => {
  const known = new Map<string, FlagSpec>([
    ['output-format', { name: 'output-format', value: 'FORMAT', doc: '' }],
    ['output', { name: 'output', value: 'FILE', doc: '' }],
  ]);
  it('reads -o in every spelling without taking --output, and checks the format', () => {
    for (const argv of [
      ['-o', 'yaml'],
      ['-oyaml'],
      ['-o=yaml'],
      ['--output-format', 'yaml'],
      ['--output-format=yaml'],
    ])
      assert.deepEqual(
        splitArgv(argv, known).flags,
        [{ name: 'output-format', value: 'yaml' }],
        argv.join(' '),
      );
    assert.deepEqual(splitArgv(['--output', 'f.json'], known).flags, [{ name: 'output', value: 'f.json' }]);
    assert.equal(chooseOutputFormat([], false), 'table');
    assert.equal(chooseOutputFormat([], true), 'json');
    assert.equal(chooseOutputFormat(['json'], true), 'json');
    assert.equal(chooseOutputFormat(['json', 'yaml'], false), 'yaml');
    assert.equal(refusal(() => chooseOutputFormat(['yaml'], true)).exitCode, 2);
    assert.equal(refusal(() => chooseOutputFormat(['xml'], false)).exitCode, 2);
    const shared = { a: 1 };
    assert.equal(renderData('yaml', { x: shared, y: shared }), 'x:\n  a: 1\ny:\n  a: 1\n', 'no YAML aliases');
  });

  it('summarises long trait lists and large nested objects in tables', () => {
    const packages = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`pkg${i}`, '1.0']));
    const rows = flattenForDisplay({
      os: { family: 'debian' },
      packages,
      addresses: Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`),
    });
    assert.deepEqual(rows, [
      ['os.family', 'debian'],
      ['packages', '{300 keys: pkg0, pkg1, pkg2, pkg3, pkg4, …}'],
      ['addresses', '[40 items]'],
    ]);
    assert.deepEqual(
      rows.map((r) => isSummarised(r[1] ?? '')),
      [false, true, true],
    );
  });
});
