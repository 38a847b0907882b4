import { normalizeArg } from './args.ts';
import type { WhenNode } from './ast.ts';
import { ArgError, traitValue } from './builtins.ts';
import type { AgentProbes } from './builtins.ts';
import { WhenFault, closestName, listNames } from './locate.ts';
import { ValueProblem, compareValues, describeValue, truthy } from './values.ts';

/**
 * One evaluator for both sides. With traits it decides trait references and trait builtins; with
 * probes it decides agent builtins; whatever it cannot decide stays in the tree as a residual, with
 * every decided value substituted as a literal. On the agent (traits and probes) nothing is left.
 * && and || short-circuit on decided operands, so the agent never runs a probe it does not need.
 */

export interface EvalEnv {
  vars: Record<string, unknown>;
  traits: Record<string, unknown> | undefined;
  probes: AgentProbes | undefined;
}

export type Outcome =
  { readonly known: true; readonly value: unknown } | { readonly known: false; readonly node: WhenNode };

const known = (value: unknown): Outcome => ({ known: true, value });
const residual = (node: WhenNode): Outcome => ({ known: false, node });

function isTruthy(value: unknown, node: WhenNode): boolean {
  try {
    return truthy(value);
  } catch (err) {
    if (err instanceof ValueProblem) throw new WhenFault(err.message, node.pos);
    throw err;
  }
}

/** A decided value placed back into a residual expression. */
function asNode(outcome: Outcome, pos: number): WhenNode {
  if (!outcome.known) return outcome.node;
  const value = outcome.value;
  if (typeof value === 'string' || typeof value === 'boolean') return { k: 'lit', pos, value };
  if (typeof value === 'number' && Number.isFinite(value)) return { k: 'lit', pos, value };
  throw new WhenFault(
    `${describeValue(value)} cannot be passed on to the agent: only strings, numbers and booleans can`,
    pos,
  );
}

function varValue(path: readonly string[], vars: Record<string, unknown>, pos: number): unknown {
  const [name = '', ...rest] = path;
  if (!Object.hasOwn(vars, name) || vars[name] === undefined) {
    const keys = Object.keys(vars);
    const suggestion = closestName(name, keys);
    const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
    const defined = keys.length === 0 ? 'no vars are defined' : `defined vars: ${listNames(keys)}`;
    throw new WhenFault(`var "${name}" is not defined${hint} (${defined})`, pos);
  }
  let value = vars[name];
  let shown = `vars.${name}`;
  for (const segment of rest) {
    if (typeof value !== 'object' || value === null) {
      throw new WhenFault(`${shown} is ${describeValue(value)}, so it has no ".${segment}"`, pos);
    }
    const map = value as Record<string, unknown>;
    if (!Object.hasOwn(map, segment) || map[segment] === undefined) {
      throw new WhenFault(
        `${shown} has no key "${segment}" (it has: ${listNames(Object.keys(map)) || 'nothing'})`,
        pos,
      );
    }
    value = map[segment];
    shown += `.${segment}`;
  }
  return value;
}

export function evaluateNode(node: WhenNode, env: EvalEnv): Outcome {
  switch (node.k) {
    case 'lit':
      return known(node.value);
    case 'var':
      return known(varValue(node.path, env.vars, node.pos));
    case 'trait':
      return env.traits === undefined
        ? residual(node)
        : known(traitValue(env.traits, node.path.join('.')) ?? null);
    case 'not': {
      const arg = evaluateNode(node.arg, env);
      return arg.known ? known(!isTruthy(arg.value, node.arg)) : residual({ ...node, arg: arg.node });
    }
    case 'and':
    case 'or':
      return logical(node, env);
    case 'cmp': {
      const left = evaluateNode(node.left, env);
      const right = evaluateNode(node.right, env);
      if (left.known && right.known) {
        try {
          return known(compareValues(node.op, left.value, right.value));
        } catch (err) {
          if (err instanceof ValueProblem) throw new WhenFault(err.message, node.pos);
          throw err;
        }
      }
      return residual({ ...node, left: asNode(left, node.left.pos), right: asNode(right, node.right.pos) });
    }
    case 'call':
      return call(node, env);
  }
}

/** A residual that stands for a truth value: a bare trait reference gets `!!` so it still yields one. */
function truthNode(node: WhenNode): WhenNode {
  return node.k === 'trait' ? { k: 'not', pos: node.pos, arg: { k: 'not', pos: node.pos, arg: node } } : node;
}

function logical(node: WhenNode & { k: 'and' | 'or' }, env: EvalEnv): Outcome {
  // For &&, a false operand decides; for ||, a true one.
  const decisive = node.k === 'or';
  const left = evaluateNode(node.left, env);
  if (left.known && isTruthy(left.value, node.left) === decisive) return known(decisive);
  const right = evaluateNode(node.right, env);
  if (right.known) {
    const value = isTruthy(right.value, node.right);
    if (value === decisive) return known(decisive);
    return left.known ? known(!decisive) : residual(truthNode(left.node));
  }
  return left.known
    ? residual(truthNode(right.node))
    : residual({ ...node, left: left.node, right: right.node });
}

function call(node: WhenNode & { k: 'call' }, env: EvalEnv): Outcome {
  const builtin = node.builtin;
  const outcomes = node.args.map((arg) => evaluateNode(arg, env));
  const decidable = builtin.side === 'trait' ? env.traits !== undefined : env.probes !== undefined;
  if (!outcomes.every((o) => o.known)) {
    return residual({ ...node, args: outcomes.map((o, i) => asNode(o, node.args[i]?.pos ?? node.pos)) });
  }
  const args = outcomes.map((outcome, i) => {
    const kind = builtin.params[Math.min(i, builtin.params.length - 1)];
    const value = (outcome as { value: unknown }).value;
    try {
      return kind === undefined ? value : normalizeArg(kind, value);
    } catch (err) {
      if (err instanceof ArgError)
        throw new WhenFault(`${builtin.name}: ${err.message}`, node.args[i]?.pos ?? node.pos);
      throw err;
    }
  });
  if (!decidable)
    return residual({ ...node, args: outcomes.map((o, i) => asNode(o, node.args[i]?.pos ?? node.pos)) });
  return known(builtin.run(args, { traits: env.traits ?? {}, probes: env.probes }));
}
