/**
 * `file_line`: one line in a text file, with Ansible lineinfile's semantics (the type's vocabulary).
 *
 * present: with `match`, the last line matching it is replaced by `line`; when nothing matches and
 * `line` is not already in the file, `line` is inserted (insert_after / insert_before, see
 * insertionIndex; default end of file). Without `match`, `line` is inserted unless an identical line
 * exists. absent: every line matching `match` (or, without match, every line equal to `line`) is
 * removed. Regular expressions are JavaScript's and search anywhere in a line (anchor with ^ and $).
 * Messages name line numbers, never line text: a line may hold a resolved secret.
 */
import {
  applyTextEdit,
  compileRegex,
  fail,
  guardApply,
  insertionIndex,
  joinLines,
  lastMatch,
  optionalBool,
  optionalString,
  resolveAttrs,
  splitLines,
  stateParam,
  targetPath,
  type TextEdit,
} from './fs-util.ts';
import type { Executor } from './types.ts';

type Params = Readonly<Record<string, unknown>>;

function checkLine(line: string): void {
  if (line.includes('\n')) fail('line must be a single line; use blockinfile for several lines');
}

function presentEdit(
  current: string,
  line: string,
  match: RegExp | undefined,
  params: Params,
): TextEdit | null {
  const lines = splitLines(current);
  const at = match ? lastMatch(lines, match) : -1;
  if (at >= 0) {
    if (lines[at] === line) return null;
    lines[at] = line;
    return { text: joinLines(lines), summary: `replaced line ${at + 1}` };
  }
  if (lines.includes(line)) return null;
  const index = insertionIndex(lines, params);
  lines.splice(index, 0, line);
  return { text: joinLines(lines), summary: `inserted line ${index + 1}` };
}

function absentEdit(current: string, line: string | undefined, match: RegExp | undefined): TextEdit | null {
  const lines = splitLines(current);
  const kept = lines.filter((l) => !(match ? match.test(l) : l === line));
  const removed = lines.length - kept.length;
  if (removed === 0) return null;
  const what = match ? `matching /${match.source}/` : 'equal to line';
  return { text: joinLines(kept), summary: `removed ${removed} line(s) ${what}`, removes: true };
}

export const fileLineExecutor: Executor = {
  type: 'file_line',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const state = stateParam(params);
      const line = optionalString(params, 'line');
      const matchText = optionalString(params, 'match');
      const match = matchText === undefined ? undefined : compileRegex(matchText, 'match');
      if (line !== undefined) checkLine(line);
      if (state === 'present' && line === undefined) fail('line is required when state is present');
      if (state === 'absent' && line === undefined && match === undefined) {
        fail('state: absent needs match or line to know which lines to remove');
      }
      // Anchors are checked now so a bad regex fails even when the file needs no insertion.
      insertionIndex([], params);
      return applyTextEdit(ctx, {
        file,
        create: optionalBool(params, 'create', false),
        absent: state === 'absent',
        attrs: await resolveAttrs(params, ctx.run),
        transform: (current) =>
          state === 'present'
            ? presentEdit(current, line ?? '', match, params)
            : absentEdit(current, line, match),
      });
    }),
};
