/**
 * Named queries from the published stacks (queries.vgo), as every bundle carries them
 * (docs/bundle-format.md "queries"): a trait path or a read-only probe of the fixed catalogue with its
 * arguments. A LiveQuery names one; the agent answers from this definition in its own signed bundle.
 */
import { isQueryProbe, queryArgsProblem } from '../../protocol/index.ts';
import type { QueryProbeName } from '../../protocol/index.ts';

export type StackQuery =
  | { readonly name: string; readonly kind: 'trait'; readonly trait: string }
  | {
      readonly name: string;
      readonly kind: 'probe';
      readonly probe: QueryProbeName;
      readonly args: Readonly<Record<string, string>>;
    };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The bundle's `queries` member, or the first problem with it. */
export function parseStackQueries(raw: unknown): { queries: Map<string, StackQuery> } | { problem: string } {
  const queries = new Map<string, StackQuery>();
  if (raw === undefined) return { queries };
  if (!isObject(raw)) return { problem: 'queries: must be an object' };
  for (const [name, body] of Object.entries(raw)) {
    const at = `queries.${name}`;
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) return { problem: `${at}: is no query name` };
    if (!isObject(body)) return { problem: `${at}: must be an object` };
    if (typeof body.trait === 'string' && body.trait !== '' && body.probe === null) {
      queries.set(name, { name, kind: 'trait', trait: body.trait });
      continue;
    }
    if (body.trait !== null || !isQueryProbe(body.probe))
      return { problem: `${at}: has neither a trait nor a known probe` };
    if (!isObject(body.args) || Object.values(body.args).some((v) => typeof v !== 'string'))
      return { problem: `${at}.args: must be an object of strings` };
    const args = body.args as Record<string, string>;
    const problem = queryArgsProblem(body.probe, args);
    if (problem !== undefined) return { problem: `${at}: ${problem}` };
    queries.set(name, { name, kind: 'probe', probe: body.probe, args });
  }
  return { queries };
}
