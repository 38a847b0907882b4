import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VigoError } from '../core/index.ts';
import { parseArgv } from './flags.ts';
import type { ConfigProblem } from './problems.ts';

function flagError(argv: string[]): { err: VigoError; problems: ConfigProblem[] } {
  try {
    parseArgv(argv);
  } catch (err) {
    assert.ok(err instanceof VigoError, `expected a VigoError, got ${String(err)}`);
    return { err, problems: err.details['problems'] as ConfigProblem[] };
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('parseArgv', () => {
  it('reads --flag value and --flag=value; a repeated flag keeps both, the later wins downstream', () => {
    const args = parseArgv([
      '--grpc-listen',
      ':1',
      '--api-listen=:2',
      '--log-level',
      'debug',
      '--log-level=warn',
    ]);
    assert.deepEqual(
      args.values.map((v) => [v.flag, v.key, v.text]),
      [
        ['--grpc-listen', 'server.grpc_listen', ':1'],
        ['--api-listen', 'server.api_listen', ':2'],
        ['--log-level', 'log.level', 'debug'],
        ['--log-level', 'log.level', 'warn'],
      ],
    );
  });

  it('reads the loader flags', () => {
    const args = parseArgv(['--system', '--config', 'x.yaml', '--notify-fd=3', '--help', '--version']);
    assert.equal(args.system, true);
    assert.equal(args.configFile, 'x.yaml');
    assert.equal(args.notifyFd, '3');
    assert.equal(args.help, true);
    assert.equal(args.version, true);
    const none = parseArgv([]);
    assert.deepEqual(
      [none.system, none.configFile, none.notifyFd, none.help, none.version],
      [false, undefined, undefined, false, false],
    );
  });

  it('keeps a value that starts with "--" when written --flag=value', () => {
    assert.equal(parseArgv(['--data-dir=--odd']).values[0]?.text, '--odd');
  });

  it('an unknown flag is config.flag naming it, with a suggestion', () => {
    const { err } = flagError(['--grpc-lisen', ':1']);
    assert.equal(err.code, 'config.flag');
    assert.match(err.message, /^flag --grpc-lisen: unknown flag --grpc-lisen; did you mean --grpc-listen\?/);
    assert.match(flagError(['-system']).err.message, /did you mean --system\?/);
    assert.doesNotMatch(flagError(['--frobnicate']).err.message, /did you mean/);
  });

  it('a missing value is config.flag', () => {
    for (const argv of [['--data-dir'], ['--config', '--system'], ['--log-level=']]) {
      const { err } = flagError(argv);
      assert.equal(err.code, 'config.flag');
      assert.match(err.message, /needs a value/);
    }
  });

  it('a boolean option flag is a switch: alone it is true, =false turns it off', () => {
    assert.deepEqual(
      parseArgv(['--publish-at-start', '--stacks', 'policies/demo']).values.map((v) => [v.key, v.text]),
      [
        ['publish.at_start', 'true'],
        ['server.stacks_dir', 'policies/demo'],
      ],
    );
    assert.deepEqual(
      parseArgv(['--publish-at-start=false']).values.map((v) => v.text),
      ['false'],
    );
    assert.match(flagError(['--publish-at-start', 'yes']).err.message, /unexpected argument "yes"/);
  });

  it('a switch given a value and a stray argument are errors', () => {
    assert.match(flagError(['--system=yes']).err.message, /flag --system: takes no value/);
    assert.match(flagError(['serve']).err.message, /unexpected argument "serve"/);
  });

  it('reports every bad flag at once', () => {
    const { problems } = flagError(['--nope', '--data-dir', '--also-nope']);
    assert.deepEqual(
      problems.map((p) => p.name),
      ['--nope', '--data-dir', '--also-nope'],
    );
  });
});
