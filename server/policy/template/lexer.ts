import { TemplateFault } from './locate.ts';

/**
 * Tokenizer mirroring Go's text/template lexer (lex.go), including its trim-marker rules: `{{- `
 * and ` -}}` need whitespace next to the dash, so `{{-3}}` is the number -3, and the trimmed
 * whitespace is exactly " \t\r\n".
 */

export type TokenKind =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'dot'
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'nil'
  | 'number'
  | 'charConstant'
  | 'string'
  | 'rawString'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  readonly pos: number;
}

const keywords = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue']);
const unsupportedKeywords = new Set(['define', 'template', 'block']);

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && /^[\p{L}\p{Nd}_]$/u.test(ch);
}

export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

class Lexer {
  private readonly tokens: Token[] = [];
  private pos = 0;
  private parenDepth = 0;
  private readonly openParens: number[] = [];

  constructor(private readonly input: string) {}

  run(): Token[] {
    const input = this.input;
    while (this.pos < input.length) {
      const delim = input.indexOf('{{', this.pos);
      if (delim < 0) {
        this.emit('text', input.slice(this.pos), this.pos);
        this.pos = input.length;
        break;
      }
      const trimLeft = this.hasLeftTrimMarker(delim + 2);
      let textEnd = delim;
      if (trimLeft) while (textEnd > this.pos && isSpace(input[textEnd - 1])) textEnd--;
      if (textEnd > this.pos) this.emit('text', input.slice(this.pos, textEnd), this.pos);
      const inner = delim + 2 + (trimLeft ? 2 : 0);
      if (input.startsWith('/*', inner)) this.pos = this.lexComment(inner, delim);
      else {
        this.emit('leftDelim', '{{', delim);
        this.pos = this.lexAction(inner, delim);
      }
    }
    this.emit('eof', '', input.length);
    return this.tokens;
  }

  private emit(kind: TokenKind, value: string, pos: number): void {
    this.tokens.push({ kind, value, pos });
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isSpace(this.input[at + 1]);
  }

  /** [isDelimiter, hasTrimMarker] for a closing `}}` or ` -}}` at `at`. */
  private rightDelimAt(at: number): [boolean, boolean] {
    const input = this.input;
    if (isSpace(input[at]) && input[at + 1] === '-' && input.startsWith('}}', at + 2)) return [true, true];
    return [input.startsWith('}}', at), false];
  }

  private skipSpaceAfterTrim(at: number): number {
    let p = at;
    while (isSpace(this.input[p])) p++;
    return p;
  }

  private lexComment(start: number, delim: number): number {
    const close = this.input.indexOf('*/', start + 2);
    if (close < 0) throw new TemplateFault('unclosed comment: add "*/}}"', delim);
    const after = close + 2;
    const [isDelim, trim] = this.rightDelimAt(after);
    if (!isDelim) throw new TemplateFault('comment ends before closing delimiter: write "*/}}"', after);
    const end = after + (trim ? 2 : 0) + 2;
    return trim ? this.skipSpaceAfterTrim(end) : end;
  }

  private lexAction(start: number, delim: number): number {
    let p = start;
    this.parenDepth = 0;
    this.openParens.length = 0;
    for (;;) {
      const [isDelim, trim] = this.rightDelimAt(p);
      if (isDelim) {
        const openParen = this.openParens[this.openParens.length - 1];
        if (openParen !== undefined) throw new TemplateFault('unclosed left paren', openParen);
        const closeAt = p + (trim ? 2 : 0);
        this.emit('rightDelim', '}}', closeAt);
        return trim ? this.skipSpaceAfterTrim(closeAt + 2) : closeAt + 2;
      }
      if (p >= this.input.length) throw new TemplateFault('unclosed action: missing "}}"', delim);
      p = this.lexInsideAction(p);
    }
  }

  private lexInsideAction(p: number): number {
    const input = this.input;
    const ch = input[p] ?? '';
    if (isSpace(ch)) return this.lexSpace(p);
    switch (ch) {
      case '=':
        this.emit('assign', '=', p);
        return p + 1;
      case ':':
        if (input[p + 1] !== '=') throw new TemplateFault('expected ":="', p);
        this.emit('declare', ':=', p);
        return p + 2;
      case '|':
        this.emit('pipe', '|', p);
        return p + 1;
      case ',':
        this.emit('comma', ',', p);
        return p + 1;
      case '"':
        return this.lexQuote(p);
      case '`':
        return this.lexRawQuote(p);
      case "'":
        return this.lexChar(p);
      case '$':
        return this.lexFieldOrVariable(p, 'variable');
      case '(':
        this.openParens.push(p);
        this.emit('leftParen', '(', p);
        return p + 1;
      case ')':
        if (this.openParens.pop() === undefined) throw new TemplateFault('unexpected right paren', p);
        this.emit('rightParen', ')', p);
        return p + 1;
    }
    if (ch === '.' && !/[0-9]/.test(input[p + 1] ?? '')) return this.lexFieldOrVariable(p, 'field');
    if (ch === '.' || ch === '+' || ch === '-' || /[0-9]/.test(ch)) return this.lexNumber(p);
    if (isAlphaNumeric(ch)) return this.lexIdentifier(p);
    throw new TemplateFault(`unexpected character ${JSON.stringify(ch)} in action`, p);
  }

  private lexSpace(p: number): number {
    let q = p;
    while (isSpace(this.input[q])) q++;
    // A trim-marked closing delimiter " -}}" owns the last space: give it back.
    if (this.input[q] === '-' && this.input.startsWith('}}', q + 1)) q--;
    if (q > p) this.emit('space', this.input.slice(p, q), p);
    return q;
  }

  private atTerminator(p: number): boolean {
    const ch = this.input[p];
    if (ch === undefined || isSpace(ch)) return true;
    if ('.,|:()'.includes(ch)) return true;
    return this.input.startsWith('}}', p);
  }

  private badCharacter(p: number): TemplateFault {
    const ch = this.input[p] ?? '';
    const hint = ch === '-' ? ' (a key containing "-" needs index, e.g. {{ index .Vars "app-port" }})' : '';
    return new TemplateFault(`bad character ${JSON.stringify(ch)} in name${hint}`, p);
  }

  private lexFieldOrVariable(p: number, kind: 'field' | 'variable'): number {
    if (this.atTerminator(p + 1)) {
      this.emit(kind === 'field' ? 'dot' : 'variable', this.input[p] ?? '', p);
      return p + 1;
    }
    let q = p + 1;
    while (isAlphaNumeric(this.input[q])) q++;
    if (!this.atTerminator(q)) throw this.badCharacter(q);
    this.emit(kind, this.input.slice(p, q), p);
    return q;
  }

  private lexIdentifier(p: number): number {
    let q = p;
    while (isAlphaNumeric(this.input[q])) q++;
    if (!this.atTerminator(q)) throw this.badCharacter(q);
    const word = this.input.slice(p, q);
    if (unsupportedKeywords.has(word)) {
      throw new TemplateFault(
        `{{${word}}} is not supported in Vigo templates: each template is one file, so put shared text in vars`,
        p,
      );
    }
    if (keywords.has(word)) this.emit('keyword', word, p);
    else if (word === 'true' || word === 'false') this.emit('bool', word, p);
    else if (word === 'nil') this.emit('nil', word, p);
    else this.emit('identifier', word, p);
    return q;
  }

  private lexNumber(p: number): number {
    const match =
      /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[oO][0-7_]*|0[bB][01_]*|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?/.exec(
        this.input.slice(p, p + 200),
      );
    const text = match?.[0] ?? '';
    if (isAlphaNumeric(this.input[p + text.length])) {
      throw new TemplateFault(
        `bad number syntax: ${JSON.stringify(this.input.slice(p, p + text.length + 1))}`,
        p,
      );
    }
    this.emit('number', text, p);
    return p + text.length;
  }

  private lexQuote(p: number): number {
    let q = p + 1;
    for (;;) {
      const ch = this.input[q];
      if (ch === '\\') q += 2;
      else if (ch === undefined || ch === '\n') throw new TemplateFault('unterminated quoted string', p);
      else if (ch === '"') break;
      else q++;
    }
    this.emit('string', this.input.slice(p, q + 1), p);
    return q + 1;
  }

  private lexRawQuote(p: number): number {
    const close = this.input.indexOf('`', p + 1);
    if (close < 0) throw new TemplateFault('unterminated raw quoted string', p);
    this.emit('rawString', this.input.slice(p, close + 1), p);
    return close + 1;
  }

  private lexChar(p: number): number {
    let q = p + 1;
    for (;;) {
      const ch = this.input[q];
      if (ch === '\\') q += 2;
      else if (ch === undefined || ch === '\n') throw new TemplateFault('unterminated character constant', p);
      else if (ch === "'") break;
      else q++;
    }
    this.emit('charConstant', this.input.slice(p, q + 1), p);
    return q + 1;
  }
}
