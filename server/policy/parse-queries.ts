/**
 * queries.vgo at the root of the stacks: named read-only queries operators ask envoys live (docs/stacks.md
 * "Named queries"). Each reads either one trait or one probe from the fixed catalogue the agent implements
 * in code (protocol/query-probes.ts), with fixed arguments checked here. A query has no shell text and no
 * run-time arguments, so it is read-only by construction and asks only what the stacks' authors chose.
 * Every envoy's bundle carries every query.
 */
import { isQueryProbe, protocolLimits, queryArgsProblem, queryProbes } from '../../protocol/index.ts';
import type { QueryProbeName } from '../../protocol/index.ts';
import type { Pos } from './diagnostics.ts';
import { parseNamedDefs } from './named-defs.ts';
import type { NamedDefsContext } from './named-defs.ts';

export const namedQueryLimits = {
  queries: 256,
  descriptionBytes: 1024,
  traitPathBytes: protocolLimits.traitPathMaxBytes,
} as const;

/** A named query, compiled: what the snapshot stores and every bundle carries. */
export interface CompiledQuery {
  description: string;
  /** Exactly one of trait and probe is set. */
  trait: string | null;
  probe: QueryProbeName | null;
  /** The probe's arguments, key-sorted; {} for a trait. */
  args: Record<string, string>;
}

export interface QueryDef {
  name: string;
  file: string;
  at: Pos;
  query: CompiledQuery;
}

const traitSegment = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

const queryBodySchema = {
  $id: 'https://vigo.invalid/schemas/query.json',
  type: 'object',
  properties: {
    description: { type: 'string', maxLength: namedQueryLimits.descriptionBytes },
    trait: { type: 'string', minLength: 1 },
    probe: { type: 'string', minLength: 1 },
    args: { type: 'object', maxProperties: 8, additionalProperties: { type: 'string' } },
  },
  additionalProperties: false,
};

export const queriesFileSchema = {
  $id: 'https://vigo.invalid/schemas/queries.json',
  type: 'object',
  properties: { queries: { type: 'object', maxProperties: namedQueryLimits.queries } },
  required: ['queries'],
  additionalProperties: false,
};

export function parseQueriesFile(file: string, value: unknown, ctx: NamedDefsContext): QueryDef[] {
  return parseNamedDefs(file, value, ctx, {
    kind: 'query',
    member: 'queries',
    fileSchema: queriesFileSchema,
    bodySchema: queryBodySchema,
    compile: (name, body, at) => {
      const query = compileQuery(name, body, at, ctx);
      return query === undefined ? undefined : { name, file, at, query };
    },
  });
}

function compileQuery(
  name: string,
  body: Record<string, unknown>,
  at: Pos,
  ctx: NamedDefsContext,
): CompiledQuery | undefined {
  const where = (key: string): Pos => {
    const pos = ctx.map.keyPos(body, key);
    return pos.line === 0 ? at : pos;
  };
  const error = (code: string, key: string, message: string, hint = ''): undefined => {
    ctx.sink.error(code, where(key), `query ${name}: ${message}`, hint);
    return undefined;
  };
  const { trait, probe, args } = body as { trait?: string; probe?: string; args?: Record<string, string> };
  const description = typeof body.description === 'string' ? body.description : '';
  if ((trait === undefined) === (probe === undefined))
    return error(
      'query.source_missing',
      trait === undefined ? 'description' : 'probe',
      'give exactly one of trait: (a dotted trait path) or probe: (a probe of the catalogue)',
      `probes: ${Object.keys(queryProbes).join(', ')}`,
    );
  if (trait !== undefined) {
    if (args !== undefined) return error('query.args_invalid', 'args', 'a trait query takes no args:');
    const bytes = Buffer.byteLength(trait);
    const bad = trait.split('.').find((segment) => !traitSegment.test(segment));
    if (bytes > namedQueryLimits.traitPathBytes || bad !== undefined)
      return error(
        'query.trait_invalid',
        'trait',
        `trait ${JSON.stringify(trait.slice(0, 80))} is not a dotted trait path of at most ${namedQueryLimits.traitPathBytes} bytes such as os.version`,
      );
    return { description, trait, probe: null, args: {} };
  }
  if (!isQueryProbe(probe))
    return error(
      'query.probe_unknown',
      'probe',
      `there is no probe ${JSON.stringify(probe!.slice(0, 80))}`,
      `probes: ${Object.keys(queryProbes).join(', ')}`,
    );
  const given = args ?? {};
  const problem = queryArgsProblem(probe, given);
  if (problem !== undefined)
    return error('query.args_invalid', args === undefined ? 'probe' : 'args', problem);
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(given).sort()) sorted[key] = given[key]!;
  return { description, trait: null, probe, args: sorted };
}
