/** vigocli entry point; exit codes are documented in docs/vigocli.md. */
import { runCli } from './run.ts';

const io = {
  out: (text: string): void => void process.stdout.write(text),
  err: (text: string): void => void process.stderr.write(text),
};

process.exitCode = await runCli(process.argv.slice(2), io, { env: process.env, cwd: process.cwd() });
