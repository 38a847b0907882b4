import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlagSpec } from './argv.ts';
import { closest, splitArgv } from './argv.ts';
import { commandInput, resolveCommand } from './command.ts';
import type { CommandSpec } from './command.ts';
import { CliError } from './errors.ts';

const flags = new Map<string, FlagSpec>([
  ['json', { name: 'json', doc: '' }],
  ['help', { name: 'help', doc: '' }],
  ['hostname', { name: 'hostname', value: 'GLOB', repeatable: true, required: true, doc: '' }],
  ['uses', { name: 'uses', value: 'N', doc: '' }],
]);

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CliError);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('expected a usage error');
}

const run = async (): Promise<void> => {};
const commands: CommandSpec[] = [
  { path: ['enroll', 'token', 'create'], summary: '', flags: [...flags.values()].slice(2), run },
  { path: ['enroll', 'token', 'revoke'], summary: '', args: [{ name: 'ID', doc: 'the id' }], run },
];

describe('vigocli command line', () => {
  it('splits words and flags wherever they appear', () => {
    const split = splitArgv(
      ['--json', 'enroll', '--hostname', 'web-*', 'token', '--uses=3', 'create', '--', '--x'],
      flags,
    );
    assert.deepEqual(split.words, ['enroll', 'token', 'create', '--x']);
    assert.deepEqual(split.flags, [
      { name: 'json', value: undefined },
      { name: 'hostname', value: 'web-*' },
      { name: 'uses', value: '3' },
    ]);
    assert.deepEqual(splitArgv(['-h'], flags).flags, [{ name: 'help', value: undefined }]);
  });

  it('refuses unknown flags with a suggestion, missing values and values for switches', () => {
    assert.match(
      usage(() => splitArgv(['--hostnme', 'x'], flags)),
      /did you mean --hostname/,
    );
    assert.match(
      usage(() => splitArgv(['--uses'], flags)),
      /needs a value/,
    );
    assert.match(
      usage(() => splitArgv(['--json=yes'], flags)),
      /takes no value/,
    );
    assert.match(
      usage(() => splitArgv(['-x'], flags)),
      /spelled --name/,
    );
    assert.equal(closest('lsit', ['list', 'revoke']), 'list');
    assert.equal(closest('zzzz', ['list', 'revoke']), undefined);
  });

  it('resolves the longest command path and checks arguments and flags', () => {
    const create = resolveCommand(commands, ['enroll', 'token', 'create']);
    assert.equal(create.command?.path.join(' '), 'enroll token create');
    const group = resolveCommand(commands, ['enroll', 'tokn']);
    assert.equal(group.command, undefined);
    assert.deepEqual(group.path, ['enroll']);
    assert.deepEqual(group.rest, ['tokn']);

    const createSpec = commands[0]!;
    const input = commandInput(
      createSpec,
      [],
      [
        { name: 'hostname', value: 'a' },
        { name: 'hostname', value: 'b' },
      ],
    );
    assert.deepEqual(input.values('hostname'), ['a', 'b']);
    assert.match(
      usage(() => commandInput(createSpec, [], [])),
      /needs --hostname GLOB/,
    );
    assert.match(
      usage(() => commandInput(createSpec, ['extra'], [{ name: 'hostname', value: 'a' }])),
      /unexpected argument/,
    );
    const twice = commandInput(
      createSpec,
      [],
      [
        { name: 'hostname', value: 'a' },
        { name: 'uses', value: '1' },
        { name: 'uses', value: '2' },
      ],
    );
    assert.match(
      usage(() => twice.value('uses')),
      /given 2 times/,
    );
    assert.match(
      usage(() => commandInput(commands[1]!, [], [])),
      /needs ID/,
    );
    assert.match(
      usage(() => commandInput(commands[1]!, ['x'], [{ name: 'uses', value: '1' }])),
      /not a flag of/,
    );
  });

  it('gives a variadic argument every word the others leave, at least one', () => {
    const spec = {
      path: ['traits', 'livequery'],
      summary: 'x',
      args: [
        { name: 'TARGET...', doc: 'a target', variadic: true },
        { name: 'PATH', doc: 'a trait path' },
      ],
      run: () => Promise.resolve(),
    };
    assert.deepEqual(commandInput(spec, ['a', 'b', 'os.version'], []).args, ['a', 'b', 'os.version']);
    assert.deepEqual(commandInput(spec, ['a', 'os.version'], []).args, ['a', 'os.version']);
    assert.match(
      usage(() => commandInput(spec, ['os.version'], [])),
      /needs PATH: a trait path/,
    );
    assert.match(
      usage(() => commandInput(spec, [], [])),
      /needs TARGET\.\.\.: a target/,
    );
  });
});
