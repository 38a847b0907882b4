/** One list of configuration problems, reported together so an operator fixes everything in one pass. */
import { VigoError } from '../core/index.ts';

export type ConfigProblemCode = 'config.yaml' | 'config.unknown_key' | 'config.wrong_type' | 'config.flag';

export interface ConfigProblem {
  readonly code: ConfigProblemCode;
  /** server.yaml problems: the file and 1-based line and column. */
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  /** The dotted key concerned, when there is one. */
  readonly key?: string;
  /** Environment and flag problems: the variable or flag, e.g. VIGO_LOG_LEVEL or --log-level. */
  readonly name?: string;
  /** What is wrong and how to fix it, without the location. */
  readonly message: string;
}

export function problemLine(problem: ConfigProblem): string {
  if (problem.file !== undefined) {
    return `${problem.file}:${String(problem.line ?? 1)}:${String(problem.col ?? 1)}: ${problem.message}`;
  }
  if (problem.name !== undefined) {
    const source = problem.name.startsWith('-') ? 'flag' : 'environment variable';
    return `${source} ${problem.name}: ${problem.message}`;
  }
  return problem.message;
}

/** Throws every problem at once; the error's code is the first problem's. Does nothing for an empty list. */
export function throwProblems(problems: readonly ConfigProblem[]): void {
  const [first] = problems;
  if (first === undefined) return;
  const lines = problems.map(problemLine);
  const message =
    lines.length === 1
      ? (lines[0] ?? '')
      : `the configuration has ${String(lines.length)} problems:\n${lines.join('\n')}`;
  throw new VigoError(first.code, message, { problems });
}
