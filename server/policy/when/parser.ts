import { normalizeArg } from './args.ts';
import type { CompareOp, WhenNode } from './ast.ts';
import { ArgError, arityText, builtins } from './builtins.ts';
import { lex } from './lexer.ts';
import type { Token, TokenKind } from './lexer.ts';
import { WhenFault, closestName } from './locate.ts';

/**
 * Grammar, loosest first:
 *   or   := and ("||" and)*
 *   and  := cmp ("&&" cmp)*
 *   cmp  := unary (("=="|"!="|"<"|"<="|">"|">=") unary)?     — comparisons do not chain
 *   unary:= "!" unary | primary
 *   primary := literal | reference | call | "(" or ")"
 * References: vars.x / .Vars.x / x (a var), traits.a.b / .Traits.a.b. A bare builtin name that takes
 * no arguments (is_container) is a call.
 */

const compareOps = new Set<TokenKind>(['==', '!=', '<', '<=', '>', '>=']);
const maxDepth = 100;
/** `&&` and `||` build left-deep trees that evaluation walks recursively: keep chains within reach. */
const maxOperators = 1000;

function describe(token: Token): string {
  if (token.kind === 'eof') return 'end of expression';
  if (token.kind === 'string') return `string ${JSON.stringify(token.value)}`;
  return JSON.stringify(token.value);
}

export function parseExpression(text: string): WhenNode {
  return new Parser(lex(text)).parse();
}

class Parser {
  private i = 0;
  private depth = 0;
  private operators = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return (this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]) as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.i++;
    return token;
  }

  parse(): WhenNode {
    if (this.peek().kind === 'eof') throw new WhenFault('empty expression', 0);
    const node = this.or();
    const rest = this.peek();
    if (rest.kind !== 'eof') {
      const hint =
        rest.kind === 'ident' || rest.kind === 'string' || rest.kind === 'number'
          ? ': missing && or ||?'
          : '';
      throw new WhenFault(`unexpected ${describe(rest)} after the expression${hint}`, rest.pos);
    }
    return node;
  }

  private or(): WhenNode {
    let left = this.and();
    while (this.peek().kind === '||') {
      this.operator(this.next());
      left = { k: 'or', pos: left.pos, left, right: this.and() };
    }
    return left;
  }

  private and(): WhenNode {
    let left = this.compare();
    while (this.peek().kind === '&&') {
      this.operator(this.next());
      left = { k: 'and', pos: left.pos, left, right: this.compare() };
    }
    return left;
  }

  private compare(): WhenNode {
    const left = this.unary();
    if (!compareOps.has(this.peek().kind)) return left;
    const op = this.next().kind as CompareOp;
    const right = this.unary();
    const again = this.peek();
    if (compareOps.has(again.kind))
      throw new WhenFault('comparisons do not chain: add parentheses', again.pos);
    return { k: 'cmp', pos: left.pos, op, left, right };
  }

  private unary(): WhenNode {
    const token = this.peek();
    if (token.kind !== '!') return this.primary();
    this.next();
    this.enter(token);
    const arg = this.unary();
    this.depth--;
    return { k: 'not', pos: token.pos, arg };
  }

  private operator(token: Token): void {
    if (++this.operators > maxOperators)
      throw new WhenFault(`expression has more than ${maxOperators} && and || operators`, token.pos);
  }

  private enter(token: Token): void {
    if (++this.depth > maxDepth) throw new WhenFault('expression nested too deeply', token.pos);
  }

  private primary(): WhenNode {
    const token = this.next();
    switch (token.kind) {
      case '(': {
        this.enter(token);
        const inner = this.or();
        this.depth--;
        const close = this.next();
        if (close.kind !== ')')
          throw new WhenFault(`expected ")" to close the "(" here, found ${describe(close)}`, close.pos);
        return inner;
      }
      case 'string':
        return { k: 'lit', pos: token.pos, value: token.value };
      case 'number':
        return { k: 'lit', pos: token.pos, value: Number(token.value) };
      case '.':
        return this.dottedReference(token);
      case 'ident':
        return this.identifier(token);
      case 'eof':
        throw new WhenFault('expression ends too early: a value is missing', token.pos);
      default:
        throw new WhenFault(
          `unexpected ${describe(token)}: expected a value, a reference or a function call`,
          token.pos,
        );
    }
  }

  private dottedReference(dot: Token): WhenNode {
    const root = this.next();
    if (root.kind === 'ident' && root.value === 'Vars')
      return { k: 'var', pos: dot.pos, path: this.path(root) };
    if (root.kind === 'ident' && root.value === 'Traits')
      return { k: 'trait', pos: dot.pos, path: this.path(root) };
    throw new WhenFault('after a leading ".", write .Vars.<name> or .Traits.<path>', root.pos);
  }

  private identifier(token: Token): WhenNode {
    const name = token.value;
    if (name === 'true' || name === 'false') return { k: 'lit', pos: token.pos, value: name === 'true' };
    if (name === 'changed') {
      throw new WhenFault(
        '"changed" must stand alone (when: changed); it cannot be combined with other conditions',
        token.pos,
      );
    }
    if (this.peek().kind === '(') return this.call(token);
    if (name === 'vars' || name === 'traits') {
      if (this.peek().kind !== '.') throw new WhenFault(`write ${name}.<name>`, token.pos);
      return { k: name === 'vars' ? 'var' : 'trait', pos: token.pos, path: this.path(token) };
    }
    const builtin = builtins.get(name);
    if (builtin !== undefined) {
      if (builtin.params.length === 0) return { k: 'call', pos: token.pos, builtin, args: [] };
      throw new WhenFault(
        `${name} is a function and takes ${arityText(builtin)}: ${builtin.usage} (a var of that name is vars.${name})`,
        token.pos,
      );
    }
    const rest = this.peek().kind === '.' ? this.path(token) : [];
    return { k: 'var', pos: token.pos, path: [name, ...rest] };
  }

  /** The ".a.b" segments after a root token. */
  private path(root: Token): string[] {
    const segments: string[] = [];
    while (this.peek().kind === '.') {
      this.next();
      const segment = this.next();
      const ok = segment.kind === 'ident' || (segment.kind === 'number' && /^\d+$/.test(segment.value));
      if (!ok) throw new WhenFault(`expected a name after ".", found ${describe(segment)}`, segment.pos);
      segments.push(segment.value);
    }
    if (segments.length === 0) throw new WhenFault(`expected ".<name>" after ${root.value}`, root.pos);
    return segments;
  }

  private call(nameToken: Token): WhenNode {
    const name = nameToken.value;
    const builtin = builtins.get(name);
    if (builtin === undefined) {
      const suggestion = closestName(name, builtins.keys());
      const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
      throw new WhenFault(`unknown function "${name}"${hint}`, nameToken.pos);
    }
    const open = this.next();
    this.enter(open);
    const args: WhenNode[] = [];
    if (this.peek().kind === ')') this.next();
    else {
      for (;;) {
        args.push(this.or());
        const sep = this.next();
        if (sep.kind === ')') break;
        if (sep.kind !== ',')
          throw new WhenFault(`expected "," or ")" in the call to ${name}, found ${describe(sep)}`, sep.pos);
      }
    }
    this.depth--;
    const fixed = builtin.params.length;
    if (args.length < fixed || (!builtin.variadic && args.length > fixed)) {
      throw new WhenFault(
        `${name} takes ${arityText(builtin)}, got ${args.length}: ${builtin.usage}`,
        nameToken.pos,
      );
    }
    args.forEach((arg, index) => {
      if (arg.k !== 'lit') return;
      const kind = builtin.params[Math.min(index, fixed - 1)];
      try {
        if (kind !== undefined) normalizeArg(kind, arg.value);
      } catch (err) {
        if (err instanceof ArgError) throw new WhenFault(`${name}: ${err.message}`, arg.pos);
        throw err;
      }
    });
    return { k: 'call', pos: nameToken.pos, builtin, args };
  }
}
