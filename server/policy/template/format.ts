import { isMap } from './values.ts';

/**
 * Go's fmt rendering of data values. JS has one number type, so an integral number prints as Go
 * prints an int (YAML `8` decodes to int in Go too) and any other number as Go prints a float64.
 */

/** fmt's %v (what `{{ x }}` and `print` show). */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(formatValue).join(' ')}]`;
  if (isMap(value)) {
    const parts = Object.keys(value)
      .sort()
      .map((key) => `${key}:${formatValue(value[key])}`);
    return `map[${parts.join(' ')}]`;
  }
  return typeof value === 'bigint' ? value.toString() : Object.prototype.toString.call(value);
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return formatInteger(value);
  return formatFloatG(value, -1);
}

export function formatInteger(value: number): string {
  return Math.abs(value) < 1e21 ? BigInt(value).toString() : formatFloatG(value, -1);
}

function specialFloat(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return undefined;
}

/**
 * The exact decimal expansion of a finite |value| > 0: digits and the position of the decimal
 * point (value = 0.d1d2d3… × 10^point). JS's toFixed/toExponential round ties away from zero, Go
 * rounds exact ties to even (%.0f of 2.5 is "2"), so rounding is done here on exact digits.
 */
function exactDecimal(value: number): { digits: string; point: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp2 = (biased === 0 ? 1 : biased) - 1075;
  let digits: string;
  let point: number;
  if (exp2 >= 0) {
    digits = (mantissa << BigInt(exp2)).toString();
    point = digits.length;
  } else {
    digits = (mantissa * 5n ** BigInt(-exp2)).toString();
    point = digits.length + exp2;
  }
  const leading = digits.length - digits.replace(/^0+/, '').length;
  return { digits: digits.slice(leading).replace(/0+$/, '') || '0', point: point - leading };
}

/** Keeps `keep` digits (keep may be ≤ 0), rounding half to even; returns digits and point. */
function roundDigits(digits: string, point: number, keep: number): { digits: string; point: number } {
  if (keep >= digits.length) return { digits, point };
  if (keep < 0) return { digits: '0', point };
  const kept = digits.slice(0, keep);
  const rest = digits.slice(keep);
  const first = rest.charCodeAt(0) - 48;
  const tie = first === 5 && /^50*$/.test(rest);
  const lastKept = keep > 0 ? kept.charCodeAt(keep - 1) - 48 : 0;
  const roundUp = first > 5 || (first === 5 && !tie) || (tie && lastKept % 2 === 1);
  if (!roundUp) return { digits: kept.replace(/0+$/, '') || '0', point };
  const bumped = (BigInt(kept || '0') + 1n).toString();
  const grew = bumped.length > kept.length;
  return { digits: bumped.replace(/0+$/, '') || '0', point: grew ? point + 1 : point };
}

/** Digits and the exponent of the first digit, of |value| > 0: shortest (significant < 0) or rounded. */
function decimalDigits(value: number, significant: number): { digits: string; exp: number } {
  if (significant < 0) {
    const [mantissa = '0', exponent = '0'] = value.toExponential().split('e');
    return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exp: Number(exponent) };
  }
  const exact = exactDecimal(value);
  const rounded = roundDigits(exact.digits, exact.point, significant);
  return { digits: rounded.digits, exp: rounded.point - 1 };
}

function exponentSuffix(exp: number, upper: boolean): string {
  const sign = exp < 0 ? '-' : '+';
  return `${upper ? 'E' : 'e'}${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** strconv.FormatFloat(v, 'g', prec, 64); prec < 0 is the shortest representation (%v). */
export function formatFloatG(value: number, prec: number, upper = false): string {
  const special = specialFloat(value);
  if (special !== undefined) return special;
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const abs = Math.abs(value);
  if (abs === 0) return `${sign}0`;
  const significant = prec < 0 ? -1 : Math.max(prec, 1);
  const { digits, exp } = decimalDigits(abs, significant);
  let eprec = prec < 0 ? 6 : significant;
  if (prec >= 0 && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  if (exp < -4 || exp >= eprec) {
    const rest = digits.slice(1);
    return `${sign}${digits[0] ?? '0'}${rest ? `.${rest}` : ''}${exponentSuffix(exp, upper)}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** %e with a precision (default 6 in printf). */
export function formatFloatE(value: number, prec: number, upper = false): string {
  const special = specialFloat(value);
  if (special !== undefined) return special;
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const abs = Math.abs(value);
  const { digits, exp } = abs === 0 ? { digits: '0', exp: 0 } : decimalDigits(abs, prec + 1);
  const padded = digits.padEnd(prec + 1, '0');
  const mantissa = prec > 0 ? `${padded[0] ?? '0'}.${padded.slice(1)}` : padded;
  return `${sign}${mantissa}${exponentSuffix(exp, upper)}`;
}

/** %f with a precision (default 6 in printf). */
export function formatFloatF(value: number, prec: number): string {
  const special = specialFloat(value);
  if (special !== undefined) return special;
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const abs = Math.abs(value);
  let whole = '0';
  let fraction = '0'.repeat(prec);
  if (abs !== 0) {
    const exact = exactDecimal(abs);
    const rounded = roundDigits(exact.digits, exact.point, exact.point + prec);
    const count = rounded.point + prec;
    const scaled = count > 0 && rounded.digits !== '0' ? rounded.digits.padEnd(count, '0') : '0';
    const padded = scaled.padStart(prec + 1, '0');
    whole = padded.slice(0, padded.length - prec);
    fraction = padded.slice(padded.length - prec);
  }
  return `${sign}${whole}${prec > 0 ? `.${fraction}` : ''}`;
}

const namedEscapes: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

function isPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

function escapeRune(ch: string, quote: string): string {
  if (ch === quote) return `\\${quote}`;
  const named = namedEscapes[ch];
  if (named !== undefined) return named;
  if (isPrintable(ch)) return ch;
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) out += escapeRune(ch, '"');
  return `${out}"`;
}

/** strconv.QuoteRune: a single-quoted Go rune literal. */
export function goQuoteRune(code: number): string {
  const valid = code >= 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
  return `'${escapeRune(String.fromCodePoint(valid ? code : 0xfffd), "'")}'`;
}

/** strconv.CanBackquote: %#q prefers `raw` when the text allows it. */
export function canBackquote(text: string): boolean {
  for (const ch of text) {
    if (ch === '`' || ch === '\ufeff') return false;
    if (ch !== '\t' && !isPrintable(ch)) return false;
  }
  return true;
}
