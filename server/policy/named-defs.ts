/**
 * The files at the stacks root that define things by name (tasks.vgo, workflows.vgo, queries.vgo): a
 * mapping `<member>: {name: body}`. Each definition is checked on its own, so that one broken definition
 * hides nothing about the others; names are global across files, and a second definition of a name is
 * reported where it stands.
 */
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { parseDurationMs } from '../core/index.ts';
import { checkSchema } from './schema-check.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

/** A definition name: 1 to 64 lowercase letters, digits, `_`, `.` or `-`, starting with a letter or digit. */
export const definitionNamePattern = '^[a-z0-9][a-z0-9_.-]{0,63}$';
const definitionName = new RegExp(definitionNamePattern);

export interface NamedDefsContext {
  sink: DiagnosticSink;
  map: SourceMap;
}

export interface NamedDefsSpec<T> {
  /** The kind of definition: names the file, the diagnostics (`<kind>.name_invalid`) and messages. */
  kind: 'task' | 'workflow' | 'query';
  /** The top-level key holding the definitions (`tasks`, `workflows`, `queries`). */
  member: string;
  fileSchema: Record<string, unknown>;
  bodySchema: Record<string, unknown>;
  /** The definition of a name whose body passed its schema, or undefined (reported) when it is broken. */
  compile(name: string, body: Record<string, unknown>, at: Pos): T | undefined;
}

export function parseNamedDefs<T>(
  file: string,
  value: unknown,
  ctx: NamedDefsContext,
  spec: NamedDefsSpec<T>,
): T[] {
  const { kind, member } = spec;
  if (value === null) {
    ctx.sink.warning('file.empty', { file, line: 1, col: 1 }, `${member} file ${file} is empty`);
    return [];
  }
  if (!checkSchema(spec.fileSchema, value, { sink: ctx.sink, map: ctx.map, what: `${member} file ${file}` }))
    return [];
  const defs = (value as Record<string, Record<string, unknown>>)[member]!;
  return Object.entries(defs).flatMap(([name, body]) => {
    const at = ctx.map.keyPos(defs, name);
    if (!definitionName.test(name)) {
      ctx.sink.error(
        `${kind}.name_invalid`,
        at,
        `${kind} name ${JSON.stringify(name.slice(0, 80))} is not 1 to 64 lowercase letters, digits, "_", "." or "-" starting with a letter or digit`,
      );
      return [];
    }
    if (!isRecord(body)) {
      ctx.sink.error('schema.wrong_type', at, `${kind} ${name} must be a mapping`);
      return [];
    }
    if (!checkSchema(spec.bodySchema, body, { sink: ctx.sink, map: ctx.map, what: `${kind} ${name}` }))
      return [];
    const def = spec.compile(name, body, at);
    return def === undefined ? [] : [def];
  });
}

/** Adds `defs` to `into`, reporting a name defined before (`<kind>.duplicate`) instead of adding it. */
export function addNamedDefs<T extends { name: string; file: string; at: Pos }>(
  kind: NamedDefsSpec<unknown>['kind'],
  defs: readonly T[],
  into: T[],
  sink: DiagnosticSink,
): void {
  for (const def of defs) {
    const earlier = into.find((x) => x.name === def.name);
    if (earlier) {
      sink.error(
        `${kind}.duplicate`,
        def.at,
        `${kind} "${def.name}" is defined twice: here and in ${earlier.file}:${earlier.at.line}`,
        `${kind} names are global; rename one of them`,
      );
      continue;
    }
    into.push(def);
  }
}

/** Whole seconds from an integer or a duration string (`90s`, `5m`), within [min, max]; else undefined. */
export function secondsOf(value: unknown, min: number, max: number): number | undefined {
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string'
        ? (parseDurationMs(value) ?? NaN) / 1000
        : NaN;
  return Number.isInteger(seconds) && seconds >= min && seconds <= max ? seconds : undefined;
}
