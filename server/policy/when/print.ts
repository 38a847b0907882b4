import type { Literal, WhenNode } from './ast.ts';

/**
 * Canonical text of an expression: what the agent receives as a residual. It re-parses to the same
 * tree (parentheses only where precedence needs them, right operands of && and || kept grouped),
 * so `parseWhen(print(x))` evaluates exactly like x.
 */

const precedence = { or: 1, and: 2, cmp: 3, not: 4, atom: 5 } as const;

function precedenceOf(node: WhenNode): number {
  switch (node.k) {
    case 'or':
      return precedence.or;
    case 'and':
      return precedence.and;
    case 'cmp':
      return precedence.cmp;
    case 'not':
      return precedence.not;
    default:
      return precedence.atom;
  }
}

function wrap(node: WhenNode, min: number): string {
  const text = printWhen(node);
  return precedenceOf(node) < min ? `(${text})` : text;
}

export function printLiteral(value: Literal): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  let out = '"';
  for (const ch of value) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch < ' ' || ch === '\u007f') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function printWhen(node: WhenNode): string {
  switch (node.k) {
    case 'lit':
      return printLiteral(node.value);
    case 'var':
      return `vars.${node.path.join('.')}`;
    case 'trait':
      return `traits.${node.path.join('.')}`;
    case 'not':
      return `!${wrap(node.arg, precedence.not)}`;
    case 'and':
      return `${wrap(node.left, precedence.and)} && ${wrap(node.right, precedence.and + 1)}`;
    case 'or':
      return `${wrap(node.left, precedence.or)} || ${wrap(node.right, precedence.or + 1)}`;
    case 'cmp':
      return `${wrap(node.left, precedence.not)} ${node.op} ${wrap(node.right, precedence.not)}`;
    case 'call':
      return `${node.builtin.name}(${node.args.map(printWhen).join(', ')})`;
  }
}
