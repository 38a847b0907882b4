/** vigocli entry point; exit codes are documented in docs/vigocli.md. */
import { runCli } from './run.ts';

// A reader that closes the pipe early (`vigocli envoys list | head`) has all it wanted: stop quietly,
// with success, instead of a stack trace for the write that found nobody reading.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const io = {
  out: (text: string): void => void process.stdout.write(text),
  err: (text: string): void => void process.stderr.write(text),
};

process.exitCode = await runCli(process.argv.slice(2), io, { env: process.env, cwd: process.cwd() });
