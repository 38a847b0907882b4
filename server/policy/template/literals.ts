import { TemplateFault } from './locate.ts';

/** Literal decoding with Go's rules (strconv.Unquote, strconv.ParseInt base 0, ParseFloat). */

const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** Decodes the body of a "…" or '…' literal; `quote` is the escape allowed for the delimiter. */
function unescape(body: string, quote: string, pos: number): string {
  let out = '';
  for (let i = 0; i < body.length;) {
    const ch = body[i] ?? '';
    if (ch !== '\\') {
      out += ch;
      i++;
      continue;
    }
    const esc = body[i + 1] ?? '';
    const simple = simpleEscapes[esc];
    if (simple !== undefined || esc === quote) {
      out += simple ?? quote;
      i += 2;
      continue;
    }
    const [digits, radix] =
      esc === 'x'
        ? [2, 16]
        : esc === 'u'
          ? [4, 16]
          : esc === 'U'
            ? [8, 16]
            : /[0-7]/.test(esc)
              ? [3, 8]
              : [0, 0];
    const start = radix === 8 ? i + 1 : i + 2;
    const hex = body.slice(start, start + digits);
    const pattern = radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/;
    if (digits === 0 || hex.length !== digits || !pattern.test(hex)) {
      throw new TemplateFault(`invalid escape "\\${esc}" in string literal`, pos);
    }
    const code = parseInt(hex, radix);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new TemplateFault(`escape "\\${esc}${hex}" is not a valid character`, pos);
    }
    out += esc === 'x' || radix === 8 ? byteEscape(code, pos) : String.fromCodePoint(code);
    i = start + digits;
  }
  return out;
}

/** \xHH and octal escapes are bytes in Go; outside ASCII they only make sense as UTF-8, which JS strings are not. */
function byteEscape(code: number, pos: number): string {
  if (code > 0x7f) {
    const hex = code.toString(16).padStart(4, '0');
    throw new TemplateFault(`byte escape above 0x7f is not supported; use \\u${hex}`, pos);
  }
  return String.fromCharCode(code);
}

export function decodeString(token: string, pos: number): string {
  if (token.startsWith('`')) return token.slice(1, -1).replaceAll('\r', '');
  return unescape(token.slice(1, -1), '"', pos);
}

export function decodeChar(token: string, pos: number): number {
  const text = unescape(token.slice(1, -1), "'", pos);
  const chars = [...text];
  if (chars.length !== 1) throw new TemplateFault(`malformed character constant: ${token}`, pos);
  return chars[0]?.codePointAt(0) ?? 0;
}

export function decodeNumber(token: string, pos: number): number {
  if (token.endsWith('i')) throw new TemplateFault(`complex numbers are not supported: ${token}`, pos);
  const bad = new TemplateFault(`bad number syntax: ${JSON.stringify(token)}`, pos);
  const digitsOnly = token.replace(/^[+-]/, '').replace(/^0[xXoObB]_?/, '');
  if (/__|^_|_$|_\.|\._/.test(digitsOnly)) throw bad;
  const sign = token.startsWith('-') ? -1 : 1;
  const body = token.replace(/^[+-]/, '').replaceAll('_', '');
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0[bB][01]+$/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[0-7]+$/.test(body)) value = parseInt(body.slice(1), 8);
  else if (/^0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?[pP][+-]?\d+$/.test(body)) value = parseHexFloat(body);
  else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) value = Number(body);
  else throw bad;
  if (!Number.isFinite(value)) throw bad;
  return sign * value;
}

function parseHexFloat(body: string): number {
  const [mantissa = '', exponent = '0'] = body.slice(2).split(/[pP]/);
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  if (digits === '') return NaN;
  return parseInt(digits, 16) * 2 ** (Number(exponent) - 4 * fraction.length);
}
