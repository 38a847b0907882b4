/**
 * Completion scripts and help topics come from the command table: every command, subcommand and flag is
 * in each script and in `vigocli help`, the bash script loads and completes, and zsh and fish check their
 * scripts where those shells are installed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commands, globalFlags, runCli } from './run.ts';

async function vigocli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (t: string): void => void (out += t), err: (t: string): void => void (err += t) };
  const code = await runCli(args, io, { env: {}, cwd: tmpdir() });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'vigo-completion-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function which(program: string): boolean {
  return spawnSync('which', [program]).status === 0;
}

/** Runs the bash script's completion function for a partly typed command line; returns the candidates. */
function completeInBash(script: string, line: string): string[] {
  const file = join(dir, 'vigocli.bash');
  writeFileSync(file, script);
  const words = line.split(' ');
  const program = [
    `source ${JSON.stringify(file)}`,
    `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_vigocli',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('vigocli completion', () => {
  it('has every command word and flag in the bash, zsh and fish scripts', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const { code, out } = await vigocli(['completion', shell]);
      assert.equal(code, 0);
      for (const command of commands) {
        for (const word of command.path) assert.match(out, new RegExp(`\\b${word}\\b`), `${shell}: ${word}`);
        for (const flag of command.flags ?? [])
          assert.ok(
            out.includes(shell === 'fish' ? `-l ${flag.name}` : `--${flag.name}`),
            `${shell}: --${flag.name}`,
          );
      }
      for (const flag of globalFlags)
        assert.ok(
          out.includes(shell === 'fish' ? `-l ${flag.name}` : `--${flag.name}`),
          `${shell}: --${flag.name}`,
        );
    }
    const wrong = await vigocli(['completion', 'tcsh']);
    assert.equal(wrong.code, 2);
  });

  it('loads in bash and completes commands, subcommands, flags and -o values', async () => {
    const { out } = await vigocli(['completion', 'bash']);
    const file = join(dir, 'syntax.bash');
    writeFileSync(file, out);
    execFileSync('bash', ['-n', file]);
    assert.deepEqual(completeInBash(out, 'vigocli env'), ['envoys']);
    assert.deepEqual(completeInBash(out, 'vigocli --server https://x envoys s'), ['show']);
    assert.deepEqual(completeInBash(out, 'vigocli enroll token c'), ['create']);
    assert.ok(completeInBash(out, 'vigocli envoys show web-01 --hi').includes('--history'));
    assert.ok(completeInBash(out, 'vigocli runs list --').includes('--context'), 'global flags too');
    assert.deepEqual(completeInBash(out, 'vigocli runs list -o y'), ['yaml']);
    assert.deepEqual(completeInBash(out, 'vigocli help cont'), ['contexts', 'context']);
  });

  it('passes zsh -n where zsh is installed', async (t) => {
    if (!which('zsh')) return t.skip('zsh is not installed: its completion script was not syntax-checked');
    const file = join(dir, 'vigocli.zsh');
    writeFileSync(file, (await vigocli(['completion', 'zsh'])).out);
    execFileSync('zsh', ['-n', file]);
  });

  it('passes fish --no-execute where fish is installed', async (t) => {
    if (!which('fish')) return t.skip('fish is not installed: its completion script was not syntax-checked');
    const file = join(dir, 'vigocli.fish');
    writeFileSync(file, (await vigocli(['completion', 'fish'])).out);
    execFileSync('fish', ['--no-execute', file]);
  });
});

describe('vigocli help', () => {
  it('lists every command and the general topics, and has a topic for every command and group', async () => {
    const overview = await vigocli(['help']);
    assert.equal(overview.code, 0);
    for (const command of commands)
      assert.ok(overview.out.includes(`  ${command.path.join(' ')}  `), command.path.join(' '));
    for (const topic of ['contexts', 'output', 'exit-codes', 'targets']) {
      assert.match(overview.out, new RegExp(`^  ${topic} `, 'm'));
      const text = await vigocli(['help', topic]);
      assert.equal(text.code, 0, topic);
      assert.ok(text.out.length > 100, topic);
    }
    for (const command of commands) {
      const text = await vigocli(['help', ...command.path]);
      assert.equal(text.code, 0);
      assert.ok(text.out.startsWith(command.summary), command.path.join(' '));
      assert.match(text.out, new RegExp(`^Usage: vigocli ${command.path.join(' ')}`, 'm'));
    }
    const group = await vigocli(['help', 'enroll', 'token']);
    assert.match(group.out, /^ {2}enroll token create {2}/m);
    const exitCodes = await vigocli(['help', 'exit-codes']);
    for (const code of [0, 1, 2, 3, 4]) assert.match(exitCodes.out, new RegExp(`^  ${code}  `, 'm'));
    const unknown = await vigocli(['help', 'contxts']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /did you mean "contexts"\?/);
  });
});
