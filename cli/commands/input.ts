/**
 * What commands read besides their flags: whole-number flag values, passwords (hidden on a terminal,
 * one line of stdin otherwise, so scripts and tests can pipe them) and yes/no confirmations.
 */
import fs from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { CommandInput, CommandIo } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { renderData } from '../output.ts';

/** Prints data in the script format asked for: JSON (`--json`, `-o json`) or YAML (`-o yaml`). */
export function printJson(io: CommandIo, value: unknown): void {
  io.out(renderData(io.dataFormat ?? 'json', value));
}

/** A flag's whole-number value within [min, max], or undefined when the flag is absent. */
export function wholeNumberFlag(
  input: CommandInput,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = input.value(name);
  if (text === undefined) return undefined;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

/** Whether a person can answer prompts: stdin is a terminal. */
export function stdinIsTerminal(): boolean {
  return process.stdin.isTTY === true;
}

function cancelled(): CliError {
  return new CliError(cliExitCodes.error, 'cli.cancelled', 'cancelled at the prompt; nothing was changed');
}

/** Reads one line from the terminal without echoing it (raw mode; Ctrl-C cancels, Backspace edits). */
function readHiddenLine(io: CommandIo, prompt: string): Promise<string> {
  const stdin = process.stdin;
  io.err(prompt);
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (err?: CliError): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.err('\n');
      if (err === undefined) resolve(chars.join(''));
      else reject(err);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(cancelled());
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The first line of stdin (the rest is ignored), without its line ending. */
function readStdinLine(what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(0, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the ${what} from stdin: ${(err as Error).message}`);
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}

export interface SecretPrompt {
  /** "password", "new password for alice": used in prompts and errors. */
  readonly what: string;
  /** On a terminal, ask twice and insist both agree (setting a password, not logging in). */
  readonly confirm: boolean;
}

/**
 * A secret from the terminal without echo, or the first line of stdin when stdin is not a terminal.
 * Never from the command line, where other users could read it in the process list.
 */
export async function readSecret(io: CommandIo, prompt: SecretPrompt): Promise<string> {
  let secret: string;
  if (stdinIsTerminal()) {
    secret = await readHiddenLine(io, `${capitalize(prompt.what)}: `);
    if (prompt.confirm && secret !== '') {
      const again = await readHiddenLine(io, `Repeat the ${prompt.what}: `);
      if (again !== secret)
        throw usageError(`the two entries of the ${prompt.what} differ; nothing was changed`);
    }
  } else {
    secret = readStdinLine(prompt.what);
  }
  if (secret === '')
    throw usageError(`the ${prompt.what} is empty: type it at the prompt, or pipe it in on stdin`);
  return secret;
}

/** One visible line from the terminal (a username, an answer). */
export async function askLine(io: CommandIo, question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const controller = new AbortController();
  rl.on('SIGINT', () => controller.abort());
  try {
    return (await rl.question(question, { signal: controller.signal })).trim();
  } catch {
    io.err('\n');
    throw cancelled();
  } finally {
    rl.close();
  }
}

/**
 * Asks before something that cannot be undone. `--yes` skips the question; without a terminal there is
 * nobody to ask, so the command refuses rather than guessing.
 */
export async function confirmOrRefuse(
  io: CommandIo,
  input: CommandInput,
  question: string,
  commandLine: string,
): Promise<void> {
  if (input.has('yes')) return;
  if (!stdinIsTerminal()) {
    throw usageError(`${commandLine} needs --yes when stdin is not a terminal (nobody can confirm)`);
  }
  const answer = await askLine(io, `${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer)) throw cancelled();
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
