import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { evaluateWhen, parseWhen, partialEvaluateWhen } from './index.ts';
import type { AgentProbes } from './index.ts';

/**
 * Random expression trees, printed with precedence-aware (and randomly redundant) parentheses,
 * must parse back and evaluate like a reference evaluator, and partial evaluation followed by the
 * agent's evaluation of the residual must agree with full evaluation.
 */

type Leaf =
  | { t: 'bool'; value: boolean }
  | { t: 'boolVar'; name: string }
  | { t: 'numCmp'; name: string; op: Op; value: number }
  | { t: 'strEq'; name: string; negate: boolean; value: string }
  | { t: 'file'; path: string }
  | { t: 'family'; family: string }
  | { t: 'cpu'; op: Op; value: number };
type Tree =
  | Leaf
  | { t: 'not'; arg: Tree; paren: boolean }
  | { t: 'and' | 'or'; left: Tree; right: Tree; paren: boolean };
type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';

const vars: Record<string, unknown> = { b0: true, b1: false, n0: 5, n1: '12', s0: 'prod' };
const traits = { os: { family: 'debian' }, cpu: { count: 4 } };
const existing = new Set(['/p1', '/p3']);
const probes: AgentProbes = {
  fileExists: (p) => existing.has(p),
  dirExists: () => false,
  processRunning: () => false,
  commandSucceeds: () => false,
  now: () => new Date(2024, 0, 3, 12, 0),
};

const op = fc.constantFrom<Op>('==', '!=', '<', '<=', '>', '>=');
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc.record({ t: fc.constant('bool' as const), value: fc.boolean() }),
  fc.record({ t: fc.constant('boolVar' as const), name: fc.constantFrom('b0', 'b1') }),
  fc.record({
    t: fc.constant('numCmp' as const),
    name: fc.constantFrom('n0', 'n1'),
    op,
    value: fc.integer({ min: -2, max: 15 }),
  }),
  fc.record({
    t: fc.constant('strEq' as const),
    name: fc.constant('s0'),
    negate: fc.boolean(),
    value: fc.constantFrom('prod', 'dev', 'a "q"'),
  }),
  fc.record({ t: fc.constant('file' as const), path: fc.constantFrom('/p1', '/p2', '/p3') }),
  fc.record({ t: fc.constant('family' as const), family: fc.constantFrom('debian', 'RHEL', 'Debian') }),
  fc.record({ t: fc.constant('cpu' as const), op, value: fc.integer({ min: 0, max: 8 }) }),
);
const tree = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ t: fc.constant('not' as const), arg: tie('tree'), paren: fc.boolean() }),
    fc.record({
      t: fc.constantFrom('and' as const, 'or' as const),
      left: tie('tree'),
      right: tie('tree'),
      paren: fc.boolean(),
    }),
  ),
})).tree;

function compare(o: Op, a: number, b: number): boolean {
  return { '==': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b }[o];
}

function reference(node: Tree): boolean {
  switch (node.t) {
    case 'bool':
      return node.value;
    case 'boolVar':
      return vars[node.name] === true;
    case 'numCmp':
      return compare(node.op, Number(vars[node.name]), node.value);
    case 'strEq':
      return (vars[node.name] === node.value) !== node.negate;
    case 'file':
      return existing.has(node.path);
    case 'family':
      return node.family.toLowerCase() === traits.os.family;
    case 'cpu':
      return compare(node.op, traits.cpu.count, node.value);
    case 'not':
      return !reference(node.arg);
    case 'and':
      return reference(node.left) && reference(node.right);
    case 'or':
      return reference(node.left) || reference(node.right);
  }
}

const precedence = { or: 1, and: 2, not: 4 } as const;

function print(node: Tree, min = 0): string {
  let text: string;
  let own = 5;
  switch (node.t) {
    case 'bool':
      return String(node.value);
    case 'boolVar':
      return `vars.${node.name}`;
    case 'numCmp':
      return wrapLeaf(`${node.name} ${node.op} ${node.value}`, min);
    case 'strEq':
      return wrapLeaf(`.Vars.${node.name} ${node.negate ? '!=' : '=='} ${JSON.stringify(node.value)}`, min);
    case 'file':
      return `file_exists('${node.path}')`;
    case 'family':
      return `os_family("${node.family}")`;
    case 'cpu':
      return wrapLeaf(`traits.cpu.count ${node.op} ${node.value}`, min);
    case 'not':
      own = precedence.not;
      text = `!${print(node.arg, precedence.not)}`;
      break;
    default:
      own = precedence[node.t];
      text = `${print(node.left, own)} ${node.t === 'and' ? '&&' : '||'} ${print(node.right, own + 1)}`;
  }
  return own < min || node.paren ? `(${text})` : text;
}

/** Comparisons bind looser than "!", so they need parentheses as the operand of "!". */
function wrapLeaf(text: string, min: number): string {
  return min > 3 ? `(${text})` : text;
}

const where = { file: 'prop.vgo', line: 1, col: 1 };

describe('when: property tests', () => {
  it('printed random trees parse back and evaluate like the reference', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const text = print(t);
        const expr = parseWhen(text, where);
        assert.equal(evaluateWhen(expr, { vars, traits, probes }), reference(t), text);
      }),
      { numRuns: 400 },
    );
  });

  it('partial evaluation plus the agent evaluating the residual equals full evaluation', () => {
    fc.assert(
      fc.property(tree, fc.boolean(), (t, serverHasTraits) => {
        const text = print(t);
        const expr = parseWhen(text, where);
        const partial = partialEvaluateWhen(expr, serverHasTraits ? { vars, traits } : { vars });
        const want = reference(t);
        if (partial.kind !== 'residual') {
          assert.equal(partial.kind, String(want), text);
          return;
        }
        const residual = parseWhen(partial.text, where);
        assert.equal(residual.varsUsed.size, 0, partial.text);
        if (serverHasTraits) assert.equal(residual.usesTraits, false, partial.text);
        assert.equal(evaluateWhen(residual, { vars: {}, traits, probes }), want, `${text} → ${partial.text}`);
        // The canonical text is a fixed point.
        assert.deepEqual(partialEvaluateWhen(residual, { vars: {} }), partial);
      }),
      { numRuns: 400 },
    );
  });
});
