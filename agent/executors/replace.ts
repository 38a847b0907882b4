/**
 * `replace`: every match of `pattern` (a JavaScript regular expression, flags g and m: ^ and $ match
 * at line boundaries) is replaced by `replacement` (JavaScript replacement syntax: $1, $<name>, $&).
 * No match, or a replacement that yields the same text, changes nothing. The file must exist.
 *
 * A pattern that still matches its own output in a different way (pattern "a", replacement "aa")
 * would change the file at every run; that is reported as failed instead of being applied.
 */
import {
  applyTextEdit,
  compileRegex,
  fail,
  guardApply,
  optionalString,
  requiredString,
  resolveAttrs,
  targetPath,
  type TextEdit,
} from './fs-util.ts';
import type { Executor } from './types.ts';

function replaceEdit(current: string, pattern: RegExp, replacement: string): TextEdit | null {
  const count = current.match(pattern)?.length ?? 0;
  if (count === 0) return null;
  const text = current.replace(pattern, replacement);
  if (text === current) return null;
  if (text.replace(pattern, replacement) !== text) {
    fail(
      `pattern /${pattern.source}/ matches its own replacement, so every run would change the file again; ` +
        'anchor the pattern (e.g. ^…$) so the replaced text no longer matches',
    );
  }
  return { text, summary: `replaced ${count} match(es) of /${pattern.source}/` };
}

export const replaceExecutor: Executor = {
  type: 'replace',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const pattern = compileRegex(requiredString(params, 'pattern'), 'pattern', 'gm');
      const replacement = optionalString(params, 'replacement');
      if (replacement === undefined) fail('replacement is required (it may be "" to delete the matches)');
      return applyTextEdit(ctx, {
        file,
        create: false,
        absent: false,
        attrs: await resolveAttrs(params, ctx.run),
        transform: (current) => replaceEdit(current, pattern, replacement),
      });
    }),
};
