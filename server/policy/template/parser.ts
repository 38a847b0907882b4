import type { Command, Operand, Pipe, TemplateNode, VariableDecl } from './ast.ts';
import { funcNames, lookupFunc } from './funcs.ts';
import { lex } from './lexer.ts';
import type { Token, TokenKind } from './lexer.ts';
import { decodeChar, decodeNumber, decodeString } from './literals.ts';
import { TemplateFault, closestName } from './locate.ts';

/** Recursive-descent parser following Go's text/template/parse, with friendlier messages. */

export function parseTemplate(text: string): TemplateNode[] {
  return new Parser(lex(text), text).parseRoot();
}

type StopKind = 'end' | 'else' | 'eof';
interface Stop {
  readonly stop: StopKind;
  readonly pos: number;
  /** For `{{else if …}}` / `{{else with …}}`: the keyword left pending after else. */
  readonly chained: string | undefined;
}
type ControlKind = 'if' | 'with' | 'range';

const maxNesting = 200;
const operandStarts = new Set<TokenKind>([
  'bool',
  'charConstant',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

function describeToken(token: Token): string {
  if (token.kind === 'eof') return 'end of template';
  if (token.kind === 'rightDelim') return '"}}"';
  if (token.kind === 'keyword') return `keyword "${token.value}"`;
  return JSON.stringify(token.value);
}

class Parser {
  private i = 0;
  private readonly vars: string[] = ['$'];
  private rangeDepth = 0;
  private nesting = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  private next(): Token {
    return (this.tokens[this.i++] ?? this.tokens[this.tokens.length - 1]) as Token;
  }

  private peek(): Token {
    return (this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]) as Token;
  }

  private nextNonSpace(): Token {
    let token = this.next();
    while (token.kind === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Token {
    while (this.peek().kind === 'space') this.i++;
    return this.peek();
  }

  private expectRightDelim(context: string): void {
    const token = this.nextNonSpace();
    if (token.kind !== 'rightDelim') {
      throw new TemplateFault(`unexpected ${describeToken(token)} in ${context}: expected "}}"`, token.pos);
    }
  }

  parseRoot(): TemplateNode[] {
    const { nodes, end } = this.itemList();
    if (end.stop !== 'eof') {
      const what = end.stop === 'end' ? '{{end}}' : end.chained ? `{{else ${end.chained}}}` : '{{else}}';
      throw new TemplateFault(`unexpected ${what}: no open if/range/with`, end.pos);
    }
    return nodes;
  }

  private itemList(): { nodes: TemplateNode[]; end: Stop } {
    const nodes: TemplateNode[] = [];
    for (;;) {
      const token = this.next();
      if (token.kind === 'eof') return { nodes, end: { stop: 'eof', pos: token.pos, chained: undefined } };
      if (token.kind === 'text') {
        nodes.push({ kind: 'text', text: token.value });
        continue;
      }
      const result = this.action(token.pos);
      if ('stop' in result) return { nodes, end: result };
      nodes.push(result);
    }
  }

  private action(delimPos: number): TemplateNode | Stop {
    const token = this.nextNonSpace();
    if (token.kind === 'keyword') {
      switch (token.value) {
        case 'end':
          this.expectRightDelim('{{end}}');
          return { stop: 'end', pos: delimPos, chained: undefined };
        case 'else': {
          const pending = this.peekNonSpace();
          if (pending.kind === 'keyword' && (pending.value === 'if' || pending.value === 'with')) {
            return { stop: 'else', pos: delimPos, chained: pending.value };
          }
          this.expectRightDelim('{{else}}');
          return { stop: 'else', pos: delimPos, chained: undefined };
        }
        case 'if':
        case 'with':
        case 'range':
          return this.control(token.value, delimPos);
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0)
            throw new TemplateFault(`{{${token.value}}} outside {{range}}`, delimPos);
          this.expectRightDelim(`{{${token.value}}}`);
          return { kind: token.value, pos: delimPos };
      }
    }
    this.i--;
    return { kind: 'action', pos: delimPos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(kind: ControlKind, delimPos: number): TemplateNode {
    if (++this.nesting > maxNesting) throw new TemplateFault('if/range/with nested too deeply', delimPos);
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const body = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    let end = body.end;
    if (end.stop === 'else') {
      if (end.chained !== undefined) {
        if (end.chained !== kind) {
          throw new TemplateFault(
            `{{else ${end.chained}}} is only allowed inside {{${end.chained}}}`,
            end.pos,
          );
        }
        this.next(); // the pending if/with keyword
        elseList = [this.control(kind, end.pos)];
        end = { stop: 'end', pos: end.pos, chained: undefined };
      } else {
        const alternative = this.itemList();
        elseList = alternative.nodes;
        end = alternative.end;
        if (end.stop === 'else') {
          throw new TemplateFault(`unexpected {{else}}: this {{${kind}}} already has an {{else}}`, end.pos);
        }
      }
    }
    if (end.stop === 'eof') throw new TemplateFault(`unclosed {{${kind}}}: add {{end}}`, delimPos);
    this.vars.length = mark;
    this.nesting--;
    return { kind, pos: delimPos, pipe, list: body.nodes, elseList };
  }

  private declarations(context: string): { decl: VariableDecl[]; isAssign: boolean } {
    const decl: VariableDecl[] = [];
    for (;;) {
      const variable = this.peekNonSpace();
      if (variable.kind !== 'variable') break;
      const restart = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.kind === 'declare' || after.kind === 'assign') {
        this.next();
        decl.push({ name: variable.value, pos: variable.pos });
        return { decl, isAssign: after.kind === 'assign' };
      }
      if (after.kind === 'comma') {
        this.next();
        decl.push({ name: variable.value, pos: variable.pos });
        if (context === 'range' && decl.length < 2 && this.peekNonSpace().kind === 'variable') continue;
        throw new TemplateFault(
          context === 'range'
            ? 'range can only declare "$index, $element :="'
            : `too many declarations in ${context}`,
          after.pos,
        );
      }
      this.i = restart;
      break;
    }
    if (decl.length > 0)
      throw new TemplateFault('expected ":=" after the range variables', this.peekNonSpace().pos);
    return { decl, isAssign: false };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const start = this.peekNonSpace();
    const { decl, isAssign } = this.declarations(context);
    const cmds: Command[] = [];
    let afterPipe = false;
    for (;;) {
      const token = this.nextNonSpace();
      if (token.kind === end) {
        if (afterPipe) throw new TemplateFault('missing command after "|"', token.pos);
        if (cmds.length === 0) throw new TemplateFault(`missing value for ${context}`, token.pos);
        const source = this.text.slice(start.pos, token.pos).trim();
        const pipe: Pipe = { pos: start.pos, source, decl, isAssign, cmds };
        this.bindDeclarations(pipe);
        this.checkPipeline(pipe);
        return pipe;
      }
      if (!operandStarts.has(token.kind)) {
        throw new TemplateFault(`unexpected ${describeToken(token)} in ${context}`, token.pos);
      }
      this.i--;
      const [cmd, endedWithPipe] = this.command();
      cmds.push(cmd);
      afterPipe = endedWithPipe;
    }
  }

  private bindDeclarations(pipe: Pipe): void {
    for (const variable of pipe.decl) {
      if (!pipe.isAssign) this.vars.push(variable.name);
      else if (!this.vars.includes(variable.name)) {
        throw new TemplateFault(
          `undefined variable "${variable.name}": declare it with ":=" first`,
          variable.pos,
        );
      }
    }
  }

  private checkPipeline(pipe: Pipe): void {
    pipe.cmds.forEach((cmd, stage) => {
      const [first, ...args] = cmd.args;
      if (first === undefined) return;
      if (first.kind === 'literal' && first.value === null)
        throw new TemplateFault('nil is not a command', first.pos);
      if (first.kind !== 'function') {
        if (stage > 0) {
          throw new TemplateFault(
            `only a function can receive a piped value, not ${this.operandText(first)}`,
            first.pos,
          );
        }
        if (args[0] !== undefined)
          throw new TemplateFault(
            `can't give an argument to non-function ${this.operandText(first)}`,
            args[0].pos,
          );
        return;
      }
      const count = args.length + (stage > 0 ? 1 : 0);
      const { minArgs, maxArgs, name } = first.def;
      if (count < minArgs || count > maxArgs) {
        const want =
          minArgs === maxArgs
            ? `${minArgs}`
            : maxArgs === Infinity
              ? `at least ${minArgs}`
              : `${minArgs} to ${maxArgs}`;
        const piped = stage > 0 ? ' (the piped value counts as the last argument)' : '';
        throw new TemplateFault(
          `wrong number of arguments for ${name}: want ${want}, got ${count}${piped}`,
          first.pos,
        );
      }
    });
  }

  private operandText(operand: Operand): string {
    return this.text.slice(operand.pos).split(/[\s|)}]/)[0] ?? '';
  }

  private command(): [Command, boolean] {
    const pos = this.peekNonSpace().pos;
    const args: Operand[] = [];
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) {
        if (args.length > 0 && operand.kind === 'function' && operand.def.minArgs > 0) {
          throw new TemplateFault(
            `${operand.name} needs arguments here: wrap the call in parentheses`,
            operand.pos,
          );
        }
        args.push(operand);
      }
      const token = this.next();
      if (token.kind === 'space') continue;
      if (token.kind === 'rightDelim' || token.kind === 'rightParen') {
        this.i--;
        return [{ pos, args }, false];
      }
      if (token.kind === 'pipe') {
        if (args.length === 0) throw new TemplateFault('missing command before "|"', token.pos);
        return [{ pos, args }, true];
      }
      throw new TemplateFault(`unexpected ${describeToken(token)} in operand`, token.pos);
    }
  }

  private operand(): Operand | undefined {
    const node = this.term();
    if (node === undefined || this.peek().kind !== 'field') return node;
    const fields: string[] = [];
    while (this.peek().kind === 'field') fields.push(this.next().value.slice(1));
    switch (node.kind) {
      case 'field':
        return { ...node, fields: [...node.fields, ...fields] };
      case 'variable':
        return { kind: 'field', pos: node.pos, base: { kind: 'variable', name: node.name }, fields };
      case 'pipe':
        return { kind: 'field', pos: node.pos, base: { kind: 'pipe', pipe: node.pipe }, fields };
      default:
        throw new TemplateFault(`unexpected "." after ${this.operandText(node) || 'term'}`, node.pos);
    }
  }

  private term(): Operand | undefined {
    const token = this.nextNonSpace();
    const pos = token.pos;
    switch (token.kind) {
      case 'identifier': {
        const def = lookupFunc(token.value);
        if (def === undefined) {
          const suggestion = closestName(token.value, funcNames());
          const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
          throw new TemplateFault(`unknown function "${token.value}"${hint}`, pos);
        }
        return { kind: 'function', pos, name: token.value, def };
      }
      case 'dot':
        return { kind: 'dot', pos };
      case 'nil':
        return { kind: 'literal', pos, value: null };
      case 'variable':
        if (!this.vars.includes(token.value))
          throw new TemplateFault(`undefined variable "${token.value}"`, pos);
        return { kind: 'variable', pos, name: token.value };
      case 'field':
        return { kind: 'field', pos, base: { kind: 'dot' }, fields: [token.value.slice(1)] };
      case 'bool':
        return { kind: 'literal', pos, value: token.value === 'true' };
      case 'number':
        return { kind: 'literal', pos, value: decodeNumber(token.value, pos) };
      case 'charConstant':
        return { kind: 'literal', pos, value: decodeChar(token.value, pos) };
      case 'string':
      case 'rawString':
        return { kind: 'literal', pos, value: decodeString(token.value, pos) };
      case 'leftParen': {
        if (++this.nesting > maxNesting) throw new TemplateFault('parentheses nested too deeply', pos);
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.nesting--;
        return { kind: 'pipe', pos, pipe };
      }
      default:
        this.i--;
        return undefined;
    }
  }
}
