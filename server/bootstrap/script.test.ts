import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bootstrapDefaults } from './service.ts';
import { loadBootstrapTemplate, renderBootstrapScript, shellQuote } from './script.ts';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigo-'));
  temps.push(dir);
  return dir;
}

const template = loadBootstrapTemplate();
const unitFileText = readFileSync(bootstrapDefaults.unitFile, 'utf8');
const script = renderBootstrapScript({
  template,
  serverAddress: 'vigo.example.com:8443',
  serverVersion: '1.2.3',
  unitFileText,
});

/** Runs the script as `curl … | sh -s -- args` does: the script on stdin. */
function runScript(
  args: string[],
  env: Record<string, string> = {},
  shell = '/bin/sh',
): SpawnSyncReturns<string> {
  return spawnSync(shell, ['-s', '--', ...args], {
    input: script,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    timeout: 20_000,
  });
}

const shells = ['/bin/sh', '/usr/bin/dash', '/bin/dash'].filter((shell) => existsSync(shell));

describe('bootstrap script rendering', () => {
  it('writes the address and version as quoted words and embeds the unit file', () => {
    assert.match(script, /^vigo_server='vigo\.example\.com:8443'$/m);
    assert.match(script, /^vigo_server_version='1\.2\.3'$/m);
    assert.ok(script.includes(`<<'VIGO_UNIT_EOF'\n${unitFileText.trimEnd()}\nVIGO_UNIT_EOF\n`));
    assert.doesNotMatch(script, /@VIGO_[A-Z]+@/);
  });

  it('parses under every available POSIX shell', () => {
    assert.ok(shells.length > 0);
    for (const shell of shells) {
      const parsed = spawnSync(shell, ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(parsed.status, 0, `${shell}: ${parsed.stderr}`);
    }
  });

  it('accepts IPv6 literals and refuses anything that is not host:port', () => {
    const render = (serverAddress: string): string =>
      renderBootstrapScript({ template, serverAddress, serverVersion: '1', unitFileText });
    assert.match(render('[2001:db8::1]:8443'), /^vigo_server='\[2001:db8::1\]:8443'$/m);
    for (const bad of ['vigo.example.com', "x';reboot;':1", 'a b:1', 'host:port', '$(id):1', '']) {
      assert.throws(() => render(bad), /is not host:port/, bad);
    }
  });

  it('refuses a unit file that would end the here-document early', () => {
    assert.throws(
      () =>
        renderBootstrapScript({
          template,
          serverAddress: 'a:1',
          serverVersion: '1',
          unitFileText: '[Unit]\nVIGO_UNIT_EOF\nrm -rf /\n',
        }),
      /would end the here-document/,
    );
  });

  it('quotes any text so sh reads it back unchanged', () => {
    const samples = ["it's", '$(id) `id` $HOME', 'a\nb', "''", '\\', ' spaced  out ', '*'];
    for (const sample of samples) {
      const echoed = spawnSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(sample)}`], { encoding: 'utf8' });
      assert.equal(echoed.stdout, sample);
    }
  });
});

describe('bootstrap script arguments', () => {
  it('answers an unknown option with usage and exit 2, under sh and dash', () => {
    for (const shell of shells) {
      const result = runScript(['--token', 'T', '--bogus'], {}, shell);
      assert.equal(result.status, 2, `${shell}: ${result.stderr}`);
      assert.match(result.stderr, /^vigo-bootstrap: unknown option --bogus$/m);
      assert.match(result.stderr, /^usage: /m);
    }
  });

  it('never prints the token or a stray value', () => {
    const secret = 'vget_0123456789abcdef_SECRETSECRET';
    const cases = [
      ['--token', secret, '--tokn=other-secret-value'],
      ['--token', secret, 'other-secret-value'],
      ['--tokn', 'other-secret-value', '--token', secret],
    ];
    for (const args of cases) {
      const result = runScript(args);
      assert.equal(result.status, 2, args.join(' '));
      const output = result.stdout + result.stderr;
      assert.ok(!output.includes('SECRET') && !output.includes('other-secret-value'), output);
    }
  });

  it('requires a token (file) and a value for each option, and a well-formed fingerprint', () => {
    const cases: [string[], RegExp][] = [
      [[], /--token-file or --token is required/],
      [['--hostname', 'web-1'], /--token-file or --token is required/],
      [['--token-file'], /--token-file needs a value/],
      [['--token', 'T', '--token-file', 'f'], /give --token or --token-file, not both/],
      [['--token-file', 'f', '--ca-sha256', 'abc'], /--ca-sha256 must be 64 lower-case hexadecimal digits/],
      [['--token-file', 'f', '--ca-sha256', 'G'.repeat(64)], /--ca-sha256 must be 64 lower-case/],
      [['--token'], /--token needs a value/],
      [['--token='], /--token needs a value/],
      [['--token', '--no-start'], /--token needs a value/],
      [['--token', 'T', '--prefix'], /--prefix needs a value/],
      [['--token', 'T', '--hostname', ''], /--hostname needs a value/],
    ];
    for (const [args, message] of cases) {
      const result = runScript(args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
  });

  it('prints help with exit 0', () => {
    const result = runScript(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /--token TOKEN/);
    assert.match(result.stdout, /--token-file FILE/);
    assert.match(result.stdout, /--ca-sha256 HEX/);
    assert.match(result.stdout, /--prefix DIR/);
  });
});

describe('bootstrap script system checks', () => {
  it('explains how to get Node.js when node is not on PATH', () => {
    const bin = tempDir();
    symlinkSync('/bin/uname', path.join(bin, 'uname'));
    const result = runScript(['--token', 'T', '--prefix', tempDir()], { PATH: bin });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^vigo-bootstrap: error: node is not on PATH/m);
    assert.match(result.stderr, /Node\.js 20\.19 or newer/);
    assert.match(result.stderr, /nodejs\.org/);
  });

  it('refuses a Node.js older than 20.19', () => {
    const bin = tempDir();
    symlinkSync('/bin/uname', path.join(bin, 'uname'));
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\n[ "$1" = --version ] && echo v20.18.3\nexit 1\n', {
      mode: 0o755,
    });
    const result = runScript(['--token', 'T', '--prefix', tempDir()], { PATH: bin });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /is Node\.js v20\.18\.3; the vigo agent needs 20\.19 or newer/);
  });

  it('needs root unless --prefix is given', (t) => {
    const setpriv = '/usr/bin/setpriv';
    let result: SpawnSyncReturns<string>;
    if (process.getuid?.() !== 0) result = runScript(['--token', 'T']);
    else if (existsSync(setpriv)) {
      const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
      result = spawnSync(setpriv, [...asNobody, '/bin/sh', '-s', '--', '--token', 'T'], {
        input: script,
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        cwd: '/',
      });
    } else return t.skip('running as root and setpriv is not installed to drop privileges');
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /needs root: pipe the script to 'sudo sh -s -- \.\.\.'/);
  });
});
