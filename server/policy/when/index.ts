import { VigoError } from '../../core/index.ts';
import type { WhenNode } from './ast.ts';
import { TRAIT_PATHS } from './builtins.ts';
import type { AgentProbes } from './builtins.ts';
import { evaluateNode } from './evaluate.ts';
import type { EvalEnv } from './evaluate.ts';
import { WhenFault, whenError } from './locate.ts';
import type { WhenSource } from './locate.ts';
import { parseExpression } from './parser.ts';
import { printWhen } from './print.ts';
import { ValueProblem, truthy } from './values.ts';

/**
 * `when:` expressions: parse at publish, decide on the server what vars (and traits, when given)
 * decide, and hand the rest to the agent as a canonical residual expression. See parser.ts for the
 * grammar, values.ts for comparison and truth rules, builtins.ts for the builtins and TRAIT_PATHS.
 * An undefined var is an evaluation error naming it; an absent trait is null.
 */

export type { AgentProbes } from './builtins.ts';
export type { WhenSource } from './locate.ts';
export { TRAIT_PATHS };
export { TRAIT_ALIASES, resolveTraitKey, traitKeyAlternatives } from './trait-aliases.ts';

export interface WhenExpr {
  readonly text: string;
  readonly isChangedOnly: boolean;
  readonly needsAgent: boolean;
  readonly usesTraits: boolean;
  readonly varsUsed: ReadonlySet<string>;
}

export type PartialResult =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'residual'; text: string /* canonical expression with vars/traits substituted, for the agent */ };

class ParsedWhen implements WhenExpr {
  readonly isChangedOnly: boolean;
  readonly needsAgent: boolean;
  readonly usesTraits: boolean;
  readonly varsUsed: ReadonlySet<string>;

  constructor(
    readonly text: string,
    readonly source: WhenSource,
    /** undefined for `changed`. */
    readonly tree: WhenNode | undefined,
  ) {
    const facts = { needsAgent: false, usesTraits: false, varsUsed: new Set<string>() };
    if (tree) collectFacts(tree, facts);
    this.needsAgent = facts.needsAgent;
    this.usesTraits = facts.usesTraits;
    this.varsUsed = facts.varsUsed;
    this.isChangedOnly = tree === undefined;
  }
}

function collectFacts(
  node: WhenNode,
  facts: { needsAgent: boolean; usesTraits: boolean; varsUsed: Set<string> },
): void {
  switch (node.k) {
    case 'lit':
      return;
    case 'var':
      facts.varsUsed.add(node.path[0] ?? '');
      return;
    case 'trait':
      facts.usesTraits = true;
      return;
    case 'not':
      return collectFacts(node.arg, facts);
    case 'and':
    case 'or':
    case 'cmp':
      collectFacts(node.left, facts);
      return collectFacts(node.right, facts);
    case 'call':
      if (node.builtin.side === 'agent') facts.needsAgent = true;
      else facts.usesTraits = true;
      for (const arg of node.args) collectFacts(arg, facts);
  }
}

/** Throws VigoError 'policy.when_syntax' at the file:line:col of the offending token, with a caret. */
export function parseWhen(text: string, source: WhenSource): WhenExpr {
  if (text.trim() === 'changed') return new ParsedWhen(text, source, undefined);
  try {
    return new ParsedWhen(text, source, parseExpression(text));
  } catch (err) {
    if (err instanceof WhenFault)
      throw whenError('policy.when_syntax', text, source, err.offset, err.message);
    throw err;
  }
}

function parsed(expr: WhenExpr): ParsedWhen {
  if (expr instanceof ParsedWhen) return expr;
  return parseWhen(expr.text, { file: '<when>', line: 1, col: 1 }) as ParsedWhen;
}

function run(expr: ParsedWhen, tree: WhenNode, env: EvalEnv): ReturnType<typeof evaluateNode> {
  try {
    const outcome = evaluateNode(tree, env);
    if (!outcome.known) return outcome;
    return { known: true, value: truthy(outcome.value) };
  } catch (err) {
    const fault = err instanceof ValueProblem ? new WhenFault(err.message, tree.pos) : err;
    if (fault instanceof WhenFault)
      throw whenError('policy.when_eval', expr.text, expr.source, fault.offset, fault.message);
    throw err;
  }
}

/** Evaluate what can be evaluated with vars (and traits if given). Agent-side calls remain as residual; `a && false` folds to false etc. */
export function partialEvaluateWhen(
  expr: WhenExpr,
  env: { vars: Record<string, unknown>; traits?: Record<string, unknown> },
): PartialResult {
  const p = parsed(expr);
  if (p.tree === undefined) return { kind: 'residual', text: 'changed' };
  const outcome = run(p, p.tree, { vars: env.vars, traits: env.traits, probes: undefined });
  if (!outcome.known) return { kind: 'residual', text: printWhen(outcome.node) };
  return { kind: outcome.value === true ? 'true' : 'false' };
}

/** Full evaluation on the agent (residual text is re-parsed there). Throws 'policy.when_eval' for runtime type errors. */
export function evaluateWhen(
  expr: WhenExpr,
  env: { vars: Record<string, unknown>; traits: Record<string, unknown>; probes: AgentProbes },
): boolean {
  const p = parsed(expr);
  if (p.tree === undefined) {
    throw new VigoError(
      'policy.when_eval',
      `${p.source.file}:${p.source.line}:${p.source.col}: "when: changed" is decided by notifications, not evaluated: check isChangedOnly first`,
      { file: p.source.file, line: p.source.line, col: p.source.col },
    );
  }
  const outcome = run(p, p.tree, { vars: env.vars, traits: env.traits, probes: env.probes });
  if (!outcome.known)
    throw new VigoError('internal', 'when: evaluation with traits and probes left a residual');
  return outcome.value === true;
}
