/**
 * `blockinfile`: a block of lines between two marker lines, with Ansible blockinfile's semantics.
 *
 * The markers come from `marker` (default "# {mark} VIGO MANAGED BLOCK"), {mark} being BEGIN and END.
 * An existing block is replaced in place; a new one goes where insert_after / insert_before say
 * (see insertionIndex; default end of file). state: absent, or an empty block, removes the block
 * and its markers. A BEGIN marker without its END marker is a broken file: the executor refuses to
 * guess where the block ends.
 */
import {
  applyTextEdit,
  fail,
  guardApply,
  insertionIndex,
  joinLines,
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

export const defaultBlockMarker = '# {mark} VIGO MANAGED BLOCK';

interface Markers {
  readonly begin: string;
  readonly end: string;
}

function markers(params: Params): Markers {
  const template = optionalString(params, 'marker') ?? defaultBlockMarker;
  if (!template.includes('{mark}')) fail(`marker must contain {mark}, e.g. "${defaultBlockMarker}"`);
  if (template.includes('\n')) fail('marker must be a single line');
  return { begin: template.replaceAll('{mark}', 'BEGIN'), end: template.replaceAll('{mark}', 'END') };
}

/** [begin, end] line indexes of the block, or undefined when the file has none. */
function findBlock(file: string, lines: readonly string[], m: Markers): [number, number] | undefined {
  const begin = lines.findIndex((l) => l.trimEnd() === m.begin);
  if (begin < 0) return undefined;
  const offset = lines.slice(begin + 1).findIndex((l) => l.trimEnd() === m.end);
  if (offset < 0) {
    fail(`${file} has "${m.begin}" at line ${begin + 1} but no "${m.end}" after it; repair the file by hand`);
  }
  return [begin, begin + 1 + offset];
}

function blockEdit(
  file: string,
  current: string,
  body: string[] | null,
  m: Markers,
  params: Params,
): TextEdit | null {
  const lines = splitLines(current);
  const found = findBlock(file, lines, m);
  if (body === null) {
    if (!found) return null;
    lines.splice(found[0], found[1] - found[0] + 1);
    return {
      text: joinLines(lines),
      summary: `removed block at lines ${found[0] + 1}-${found[1] + 1}`,
      removes: true,
    };
  }
  const wanted = [m.begin, ...body, m.end];
  if (found) {
    const existing = lines.slice(found[0], found[1] + 1);
    if (existing.length === wanted.length && existing.every((l, i) => l === wanted[i])) return null;
    lines.splice(found[0], found[1] - found[0] + 1, ...wanted);
    return { text: joinLines(lines), summary: `replaced block at line ${found[0] + 1}` };
  }
  const index = insertionIndex(lines, params);
  lines.splice(index, 0, ...wanted);
  return { text: joinLines(lines), summary: `inserted block at line ${index + 1}` };
}

export const blockinfileExecutor: Executor = {
  type: 'blockinfile',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const m = markers(params);
      const block = optionalString(params, 'block') ?? '';
      const removing = stateParam(params) === 'absent' || block === '';
      const body = removing ? null : splitLines(block);
      if (body?.some((l) => l.trimEnd() === m.begin || l.trimEnd() === m.end)) {
        fail('block must not contain the marker lines themselves');
      }
      insertionIndex([], params);
      return applyTextEdit(ctx, {
        file,
        create: optionalBool(params, 'create', false),
        absent: removing,
        attrs: await resolveAttrs(params, ctx.run),
        transform: (current) => blockEdit(file, current, body, m, params),
      });
    }),
};
