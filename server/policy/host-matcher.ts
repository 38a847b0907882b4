/**
 * Hostname → first matching entry, fast. Literal patterns sit in one Map; each glob is filed under
 * its literal prefix or literal suffix (whichever fewer globs share), so a lookup probes a handful of
 * buckets instead of trying every glob. First-match order is kept by comparing entry indexes.
 *
 * Glob syntax (case-insensitive): `*` any run of characters including dots, `?` one character,
 * `[abc]` / `[a-z]` / `[!abc]` one character from (or not from) a set.
 */

interface Glob {
  index: number;
  test: (host: string) => boolean;
}

const wildcard = /[*?[]/;

export function isGlob(pattern: string): boolean {
  return wildcard.test(pattern);
}

/** Compiles a glob, or returns an error message for a malformed one. */
export function compileGlob(pattern: string): RegExp | string {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return `unclosed "[" at position ${i + 1}`;
      let set = pattern.slice(i + 1, end);
      if (set.startsWith('!')) set = '^' + set.slice(1);
      re += `[${set.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$', 'i');
  } catch (err) {
    return (err as Error).message;
  }
}

function literalPrefix(p: string): string {
  const i = p.search(wildcard);
  return i < 0 ? p : p.slice(0, i);
}

function literalSuffix(p: string): string {
  let i = p.length;
  while (i > 0 && !'*?]'.includes(p[i - 1]!)) i--;
  return p.slice(i);
}

class Buckets {
  private readonly map = new Map<string, Glob[]>();
  private lengths: number[] = [];

  add(key: string, g: Glob): void {
    const list = this.map.get(key);
    if (list) list.push(g);
    else this.map.set(key, [g]);
  }

  seal(): void {
    this.lengths = [...new Set([...this.map.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  /** Lowest index < best among this structure's globs that match `host`. */
  best(host: string, best: number, fromEnd: boolean): number {
    for (const len of this.lengths) {
      if (len > host.length) break;
      const key = fromEnd ? host.slice(host.length - len) : host.slice(0, len);
      const list = this.map.get(key);
      if (list) best = firstMatch(list, host, best);
    }
    return best;
  }
}

function firstMatch(list: Glob[], host: string, best: number): number {
  for (const g of list) {
    if (g.index >= best) break;
    if (g.test(host)) return g.index;
  }
  return best;
}

/** `*`-only globs (the common case) match with string searches; the rest use a RegExp. */
function tester(pattern: string): ((host: string) => boolean) | undefined {
  if (!/[?[]/.test(pattern)) {
    const parts = pattern.split('*');
    const head = parts[0]!;
    const tail = parts[parts.length - 1]!;
    const middle = parts.slice(1, -1).filter((x) => x !== '');
    const minLength = parts.reduce((n, x) => n + x.length, 0);
    return (host) => {
      if (host.length < minLength || !host.startsWith(head) || !host.endsWith(tail)) return false;
      let at = head.length;
      const end = host.length - tail.length;
      for (const m of middle) {
        const i = host.indexOf(m, at);
        if (i < 0 || i + m.length > end) return false;
        at = i + m.length;
      }
      return true;
    };
  }
  const re = compileGlob(pattern);
  return typeof re === 'string' ? undefined : (host) => re.test(host);
}

export class HostMatcher {
  private readonly literal = new Map<string, number>();
  private readonly catchAll: Glob[] = [];
  private readonly prefixes = new Buckets();
  private readonly suffixes = new Buckets();

  /** `entries[i]` lists the patterns of entry i; invalid globs never match. */
  constructor(entries: readonly (readonly string[])[]) {
    const globs: { g: Glob; prefix: string; suffix: string }[] = [];
    entries.forEach((patterns, index) => {
      for (const raw of patterns) {
        const p = raw.toLowerCase();
        if (!isGlob(p)) {
          if (!this.literal.has(p)) this.literal.set(p, index);
          continue;
        }
        const test = tester(p);
        if (test) globs.push({ g: { index, test }, prefix: literalPrefix(p), suffix: literalSuffix(p) });
      }
    });
    const prefixCount = countBy(globs.map((x) => x.prefix));
    const suffixCount = countBy(globs.map((x) => x.suffix));
    for (const { g, prefix, suffix } of globs) {
      if (prefix === '' && suffix === '') this.catchAll.push(g);
      else if (suffix === '' || (prefix !== '' && rank(prefix, prefixCount) <= rank(suffix, suffixCount)))
        this.prefixes.add(prefix, g);
      else this.suffixes.add(suffix, g);
    }
    this.prefixes.seal();
    this.suffixes.seal();
  }

  /** Index of the first entry matching `hostname`, or undefined. */
  match(hostname: string): number | undefined {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    let best = this.literal.get(host) ?? Number.POSITIVE_INFINITY;
    best = firstMatch(this.catchAll, host, best);
    best = this.prefixes.best(host, best, false);
    best = this.suffixes.best(host, best, true);
    return Number.isFinite(best) ? best : undefined;
  }
}

function countBy(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Smaller is better: few globs share the anchor, and a longer anchor breaks ties. */
function rank(anchor: string, counts: Map<string, number>): number {
  return (counts.get(anchor) ?? 0) * 1000 - Math.min(anchor.length, 999);
}
