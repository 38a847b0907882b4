import { WhenFault } from './locate.ts';

export type TokenKind =
  | '||'
  | '&&'
  | '!'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '('
  | ')'
  | ','
  | '.'
  | 'ident'
  | 'string'
  | 'number'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, decoded string, or number text. */
  readonly value: string;
  readonly pos: number;
}

const operators: ReadonlyArray<TokenKind> = [
  '||',
  '&&',
  '==',
  '!=',
  '<=',
  '>=',
  '!',
  '<',
  '>',
  '(',
  ')',
  ',',
  '.',
];
const escapes: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
};
const identStart = /[A-Za-z_]/;
const identPart = /[A-Za-z0-9_-]/;

export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let p = 0;
  while (p < text.length) {
    const ch = text[p] ?? '';
    if (/\s/.test(ch)) {
      p++;
      continue;
    }
    const op = operators.find((candidate) => text.startsWith(candidate, p));
    if (op !== undefined) {
      tokens.push({ kind: op, value: op, pos: p });
      p += op.length;
      continue;
    }
    if (ch === '"' || ch === "'") p = lexString(text, p, tokens);
    else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(text[p + 1] ?? '')))
      p = lexNumber(text, p, tokens);
    else if (identStart.test(ch)) p = lexIdent(text, p, tokens);
    else throw new WhenFault(unexpectedCharacter(ch), p);
  }
  tokens.push({ kind: 'eof', value: '', pos: text.length });
  return tokens;
}

function unexpectedCharacter(ch: string): string {
  if (ch === '=') return 'unexpected "=": compare with "=="';
  if (ch === '&') return 'unexpected "&": "and" is written "&&"';
  if (ch === '|') return 'unexpected "|": "or" is written "||"';
  return `unexpected character ${JSON.stringify(ch)}`;
}

function lexString(text: string, start: number, tokens: Token[]): number {
  const quote = text[start];
  let value = '';
  let p = start + 1;
  for (;;) {
    const ch = text[p];
    if (ch === undefined) throw new WhenFault(`unterminated string: add the closing ${quote}`, start);
    if (ch === quote) break;
    if (ch !== '\\') {
      value += ch;
      p++;
      continue;
    }
    const esc = text[p + 1] ?? '';
    const simple = escapes[esc];
    if (simple !== undefined) {
      value += simple;
      p += 2;
    } else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(p + 2, p + 6))) {
      value += String.fromCharCode(parseInt(text.slice(p + 2, p + 6), 16));
      p += 6;
    } else {
      throw new WhenFault(`invalid escape "\\${esc}" in string`, p);
    }
  }
  tokens.push({ kind: 'string', value, pos: start });
  return p + 1;
}

function lexNumber(text: string, start: number, tokens: Token[]): number {
  const match = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(start)) as RegExpExecArray;
  const end = start + match[0].length;
  if (identPart.test(text[end] ?? '')) {
    throw new WhenFault(`bad number ${JSON.stringify(text.slice(start, end + 1))}`, start);
  }
  tokens.push({ kind: 'number', value: match[0], pos: start });
  return end;
}

function lexIdent(text: string, start: number, tokens: Token[]): number {
  let end = start + 1;
  while (identPart.test(text[end] ?? '')) end++;
  // A name may contain "-" but not end with it.
  while (text[end - 1] === '-') end--;
  tokens.push({ kind: 'ident', value: text.slice(start, end), pos: start });
  return end;
}
