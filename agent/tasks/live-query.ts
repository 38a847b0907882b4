/**
 * Answers LiveQuery: the trait at a dotted path, collected afresh (never from the traits cache), as UTF-8
 * JSON, within the 30 seconds agent.proto allows. Only the collector that owns the path's top-level key
 * runs when the trait source knows it; otherwise all do. Live queries only read, so they do not take the
 * work lock, but at most `maxRunning` are answered at once: beyond that a query is answered "agent busy"
 * at once, so a flood of queries cannot pile up collector runs.
 *
 * A path walks object keys and, for arrays, decimal indexes ("mounts.0.mountpoint").
 *
 * A LiveQuery with a query_name is answered from that named query's definition in the bundle the agent
 * holds (stack-queries.ts): its trait as above, or its read-only probe (query-probes.ts). A name the
 * bundle does not define is answered with an error: the server cannot make the agent run anything else.
 */
import type { Logger } from '../../server/core/index.ts';
import { protocolLimits, streamTimings } from '../../protocol/index.ts';
import type { LiveQuery } from '../../protocol/index.ts';
import type { TraitSource } from '../traits/index.ts';
import { resolveTraitKey } from '../../server/policy/when/index.ts';
import { clipText } from './dispatch-check.ts';
import { runProbe } from './query-probes.ts';
import type { ProbeRoots } from './query-probes.ts';
import type { StackQuery } from './stack-queries.ts';

export interface QueryAnswer {
  readonly queryId: string;
  /** UTF-8 JSON; empty when error is set. */
  readonly valueJson: Buffer;
  readonly error: string;
}

export type QueryReply = (answer: QueryAnswer) => void;

export interface LiveQueriesOptions {
  readonly traits: TraitSource;
  readonly log: Logger;
  readonly maxRunning?: number;
  /** How long collection may take before the query is answered with an error. */
  readonly budgetMs?: number;
  /** The named queries of the bundle the agent holds now (none without a valid bundle). */
  readonly stackQueries?: () => ReadonlyMap<string, StackQuery>;
  /** Where probes read the dpkg database and /proc (tests point them elsewhere). */
  readonly probeRoots?: ProbeRoots;
}

export const defaultMaxLiveQueries = 4;
/** Leaves room within the server's 30 s for the answer to travel. */
const defaultBudgetMs = streamTimings.liveQueryTimeoutMs - 5_000;
const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const arrayIndex = /^(0|[1-9][0-9]{0,8})$/;

function pathProblem(tp: string): string | undefined {
  const size = Buffer.byteLength(tp, 'utf8');
  if (size === 0) return 'trait_path is empty';
  if (size > protocolLimits.traitPathMaxBytes)
    return `trait_path is ${size} bytes; the limit is ${protocolLimits.traitPathMaxBytes}`;
  if (tp.split('.').some((part) => part === ''))
    return `trait_path "${clipText(tp, 256)}" has an empty segment`;
  return undefined;
}

/** The value at `parts` under `root`, or undefined when there is none. */
export function traitAt(root: unknown, parts: readonly string[]): unknown {
  let node = root;
  for (const part of parts) {
    if (Array.isArray(node)) {
      if (!arrayIndex.test(part)) return undefined;
      node = node[Number(part)];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, part)) {
      node = (node as Record<string, unknown>)[part];
    } else return undefined;
  }
  return node;
}

export class LiveQueries {
  readonly #options: LiveQueriesOptions;
  #running = 0;

  constructor(options: LiveQueriesOptions) {
    this.#options = options;
  }

  /** Queries being answered now. */
  get running(): number {
    return this.#running;
  }

  answer(query: LiveQuery, reply: QueryReply): void {
    const { log } = this.#options;
    if (!uuidText.test(query.queryId)) {
      log.warn('ignored a live query that cannot be answered: query_id is not a UUID');
      return;
    }
    const fail = (error: string): void =>
      reply({ queryId: query.queryId, valueJson: Buffer.alloc(0), error: clipText(error) });
    const named = query.queryName === '' ? undefined : this.#named(query.queryName);
    if (named !== undefined && 'problem' in named) {
      fail(named.problem);
      return;
    }
    const problem = named === undefined ? pathProblem(query.traitPath) : undefined;
    if (problem !== undefined) {
      fail(problem);
      return;
    }
    const max = this.#options.maxRunning ?? defaultMaxLiveQueries;
    if (this.#running >= max) {
      fail(`agent busy: ${this.#running} live queries running; ask again`);
      return;
    }
    this.#running += 1;
    const work =
      named === undefined
        ? this.#read(query.traitPath)
        : named.query.kind === 'trait'
          ? this.#read(named.query.trait)
          : this.#probe(named.query);
    void work
      .then(
        (answer) =>
          'error' in answer
            ? fail(answer.error)
            : reply({ queryId: query.queryId, valueJson: answer.json, error: '' }),
        (err: unknown) => fail(`collecting traits failed: ${(err as Error).message}`),
      )
      .finally(() => {
        this.#running -= 1;
      });
  }

  /** The named query's definition in the held bundle, or why there is none. */
  #named(name: string): { query: StackQuery } | { problem: string } {
    const query = this.#options.stackQueries?.().get(name);
    if (query !== undefined) return { query };
    const known = [...(this.#options.stackQueries?.().keys() ?? [])];
    return {
      problem: `unknown query ${JSON.stringify(clipText(name, 64))}: the bundle this agent holds ${
        known.length === 0 ? 'defines no queries' : `defines ${clipText(known.join(', '), 512)}`
      }`,
    };
  }

  async #probe(query: Extract<StackQuery, { kind: 'probe' }>): Promise<{ json: Buffer } | { error: string }> {
    const budgetMs = this.#options.budgetMs ?? defaultBudgetMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = Symbol('timed out');
    const timeout = new Promise<typeof timedOut>((resolve) => {
      timer = setTimeout(() => resolve(timedOut), budgetMs);
    });
    let value: unknown;
    try {
      value = await Promise.race([runProbe(query.probe, query.args, this.#options.probeRoots), timeout]);
    } catch (err) {
      return { error: `probe ${query.probe} of query ${query.name} failed: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    if (value === timedOut) return { error: `probe ${query.probe} timed out after ${budgetMs} ms` };
    const json = Buffer.from(JSON.stringify(value), 'utf8');
    if (json.length > protocolLimits.queryValueMaxBytes)
      return {
        error: `the answer of query ${query.name} is ${json.length} bytes of JSON; the limit is ${protocolLimits.queryValueMaxBytes}`,
      };
    return { json };
  }

  async #read(tp: string): Promise<{ json: Buffer } | { error: string }> {
    const parts = tp.split('.');
    const top = parts[0]!;
    const budgetMs = this.#options.budgetMs ?? defaultBudgetMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budgetMs);
    });
    const run = await Promise.race([
      this.#options.traits.collect({ refreshStable: true, onlyKey: top }),
      timeout,
    ]);
    clearTimeout(timer);
    if (run === 'timeout') return { error: `collecting ${top} timed out after ${budgetMs} ms` };
    // A Vigo name (processors) reads the trait the agent reports under its own name (cpu).
    const key = resolveTraitKey(run.traits, top) ?? top;
    const owner = run.owners?.[key];
    const failed = run.errors
      .filter((e) => e.collector !== 'cache' && (owner === undefined || e.collector === owner))
      .map((e) => `${e.collector}: ${e.message}`)
      .join('; ');
    const value = traitAt(run.traits, [key, ...parts.slice(1)]);
    // The owner failed: its last good value is not passed off as current.
    if (owner !== undefined && failed !== '') return { error: `trait collector ${failed}` };
    if (value === undefined)
      return {
        error: failed === '' ? `no trait at ${tp}` : `no trait at ${tp} (trait collectors failed: ${failed})`,
      };
    const json = Buffer.from(JSON.stringify(value), 'utf8');
    if (json.length > protocolLimits.queryValueMaxBytes)
      return {
        error: `the value at ${tp} is ${json.length} bytes of JSON; the limit is ${protocolLimits.queryValueMaxBytes}`,
      };
    return { json };
  }
}
