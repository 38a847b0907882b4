import {
  canBackquote,
  formatFloatE,
  formatFloatF,
  formatFloatG,
  formatValue,
  goQuote,
  goQuoteRune,
} from './format.ts';
import { goTypeName, isMap } from './values.ts';

/**
 * fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %o %b %c %U %t %e %E %f %F %g %G %T %%,
 * with flags "+- #0", width and precision. Mistakes print the way Go prints them (%!d(string=x),
 * %!v(MISSING), %!(EXTRA …)) so output matches a Go-rendered file byte for byte.
 * Deviation: JS numbers carry no int/float type, so any number takes %f/%e/%g and an integral one
 * takes the integer verbs.
 */

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/**
 * Go's parsenum: a width or precision above a million is "crazy long", and Go then treats the rest of
 * the format as consumed (printing %!(NOVERB)); that also keeps padding from allocating gigabytes.
 */
function readDigits(format: string, start: number): [number | undefined, number] {
  let end = start;
  let num = 0;
  for (; end < format.length && /[0-9]/.test(format[end] ?? ''); end++) {
    if (num > 1e6) return [undefined, format.length];
    num = num * 10 + Number(format[end]);
  }
  return end === start ? [undefined, start] : [num, end];
}

export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argIndex = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    const spec: Spec = {
      minus: false,
      plus: false,
      sharp: false,
      zero: false,
      space: false,
      width: undefined,
      prec: undefined,
    };
    let p = percent + 1;
    for (; p < format.length; p++) {
      const flag = format[p];
      if (flag === '-') [spec.minus, spec.zero] = [true, false];
      else if (flag === '0') spec.zero = !spec.minus;
      else if (flag === '+') spec.plus = true;
      else if (flag === '#') spec.sharp = true;
      else if (flag === ' ') spec.space = true;
      else break;
    }
    [spec.width, p] = readDigits(format, p);
    if (format[p] === '.') {
      const [prec, next] = readDigits(format, p + 1);
      [spec.prec, p] = [prec ?? 0, next];
    }
    const verb = String.fromCodePoint(format.codePointAt(p) ?? 0);
    if (p >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    i = p + verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argIndex++], verb, spec);
  }
  if (argIndex < args.length) {
    const extra = args
      .slice(argIndex)
      .map((arg) => (arg === null || arg === undefined ? '<nil>' : `${goTypeName(arg)}=${formatValue(arg)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

function badVerb(verb: string, arg: unknown): string {
  if (arg === null || arg === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
}

function pad(text: string, spec: Spec): string {
  const width = spec.width ?? 0;
  const length = [...text].length;
  if (length >= width) return text;
  const fill = (spec.zero ? '0' : ' ').repeat(width - length);
  return spec.minus ? text + ' '.repeat(width - length) : fill + text;
}

/** Pads a signed number: zero padding goes between the sign and the digits. */
function padNumber(negative: boolean, digits: string, spec: Spec, allowZero = true): string {
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  const width = spec.width ?? 0;
  if (spec.zero && allowZero && !spec.minus && width > sign.length + digits.length) {
    return sign + '0'.repeat(width - sign.length - digits.length) + digits;
  }
  return pad(sign + digits, { ...spec, zero: false });
}

function formatArg(arg: unknown, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(arg), spec);
  if (arg === null || arg === undefined) return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, arg);
  if (typeof arg === 'boolean')
    return verb === 'v' || verb === 't' ? pad(String(arg), spec) : badVerb(verb, arg);
  if (typeof arg === 'number') return formatNumberArg(arg, verb, spec);
  if (typeof arg === 'string') return formatStringArg(arg, verb, spec);
  if (Array.isArray(arg)) return `[${arg.map((item) => formatArg(item, verb, spec)).join(' ')}]`;
  if (isMap(arg)) {
    const parts = Object.keys(arg)
      .sort()
      .map((key) => `${formatArg(key, verb, spec)}:${formatArg(arg[key], verb, spec)}`);
    return `map[${parts.join(' ')}]`;
  }
  return badVerb(verb, arg);
}

function formatStringArg(text: string, verb: string, spec: Spec): string {
  const clipped = spec.prec === undefined ? text : [...text].slice(0, spec.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(clipped, spec);
    case 'q':
      return pad(spec.sharp && canBackquote(clipped) ? `\`${clipped}\`` : goQuote(clipped), spec);
    case 'x':
    case 'X': {
      const bytes = [...Buffer.from(clipped, 'utf8')].map((byte) => byte.toString(16).padStart(2, '0'));
      const prefix = spec.sharp ? '0x' : '';
      const hex = spec.space ? bytes.map((b) => prefix + b).join(' ') : prefix + bytes.join('');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
    default:
      return badVerb(verb, text);
  }
}

const integerBases: Record<string, [number, string]> = {
  d: [10, ''],
  v: [10, ''],
  b: [2, '0b'],
  o: [8, '0'],
  x: [16, '0x'],
  X: [16, '0X'],
};

function formatNumberArg(value: number, verb: string, spec: Spec): string {
  const integral = Number.isInteger(value) && Math.abs(value) < 2 ** 63;
  const negative = value < 0 || Object.is(value, -0);
  switch (verb) {
    case 'f':
    case 'F':
      return padNumber(negative, formatFloatF(Math.abs(value), spec.prec ?? 6), spec, Number.isFinite(value));
    case 'e':
    case 'E':
      return padNumber(
        negative,
        formatFloatE(Math.abs(value), spec.prec ?? 6, verb === 'E'),
        spec,
        Number.isFinite(value),
      );
    case 'g':
    case 'G':
      return padNumber(
        negative,
        formatFloatG(Math.abs(value), spec.prec ?? -1, verb === 'G'),
        spec,
        Number.isFinite(value),
      );
  }
  if (!integral)
    return verb === 'v' ? padNumber(negative, formatFloatG(Math.abs(value), -1), spec) : badVerb(verb, value);
  const base = integerBases[verb];
  if (base !== undefined) {
    const prefixed = spec.sharp && verb !== 'd' && verb !== 'v' && !(verb === 'o' && value === 0);
    return formatInteger(value, base[0], prefixed ? base[1] : '', verb === 'X', spec);
  }
  if (verb === 'c') return pad(String.fromCodePoint(validRune(value)), spec);
  if (verb === 'q') return pad(goQuoteRune(value), spec);
  if (verb === 'U') return pad(`U+${Math.abs(value).toString(16).toUpperCase().padStart(4, '0')}`, spec);
  return badVerb(verb, value);
}

function validRune(code: number): number {
  return code >= 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? code : 0xfffd;
}

function formatInteger(value: number, radix: number, prefix: string, upper: boolean, spec: Spec): string {
  let digits = BigInt(Math.abs(value)).toString(radix);
  if (upper) digits = digits.toUpperCase();
  // As in Go: precision is a minimum digit count; zero padding to a width becomes one too.
  let minDigits = spec.prec;
  if (minDigits === undefined && spec.zero && !spec.minus && spec.width !== undefined) {
    minDigits = spec.width - (value < 0 || spec.plus || spec.space ? 1 : 0);
  }
  if (spec.prec === 0 && value === 0) digits = '';
  else if (minDigits !== undefined) digits = digits.padStart(minDigits, '0');
  return padNumber(value < 0, prefix + digits, { ...spec, zero: false });
}
