/**
 * Hostname globs that bind an enrollment token to the hosts it may enroll. `*` matches any run of
 * characters (dots included, so `*.dc1.*` matches `web3.dc1.example.com`), `?` exactly one, and
 * `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` one character of a class. Matching is case-insensitive and
 * covers the whole name. Globs are checked when a token is created, so a stored glob always compiles.
 *
 * Matching is the classic wildcard walk with one backtrack point, O(name × glob) at worst, rather
 * than a RegExp: `.*a.*a.*a…` backtracks exponentially and the glob comes from an admin's input.
 */
import { VigoError } from '../core/index.ts';
import { maxHostnameLength } from './hostname.ts';

export const maxGlobsPerToken = 100;
const globCharacters = /^[a-z0-9.\-*?[\]!^]+$/;

type GlobPart =
  | { kind: 'star' }
  | { kind: 'one' }
  | { kind: 'char'; ch: string }
  | { kind: 'class'; negated: boolean; ranges: [string, string][] };

function globInvalid(glob: string, problem: string): VigoError {
  return new VigoError(
    'enroll.glob_invalid',
    `hostname glob ${JSON.stringify(glob.slice(0, 300))} is invalid: ${problem}. ` +
      'Use letters, digits, dots and hyphens with * (any run), ? (one character) and [a-z] classes, ' +
      'e.g. "web-*.example.com".',
    { glob: glob.slice(0, 300) },
  );
}

function parseClass(glob: string, body: string): GlobPart {
  const negated = body.startsWith('!') || body.startsWith('^');
  const members = negated ? body.slice(1) : body;
  if (members === '') throw globInvalid(glob, 'it has an empty character class "[]"');
  const ranges: [string, string][] = [];
  for (let i = 0; i < members.length; i += 1) {
    const from = members[i] as string;
    const to = members[i + 2];
    if (members[i + 1] === '-' && to !== undefined) {
      if (to < from) throw globInvalid(glob, `its range "${from}-${to}" runs backwards`);
      ranges.push([from, to]);
      i += 2;
    } else {
      ranges.push([from, from]);
    }
  }
  return { kind: 'class', negated, ranges };
}

function parseGlob(glob: string): GlobPart[] {
  const parts: GlobPart[] = [];
  for (let i = 0; i < glob.length; i += 1) {
    const ch = glob[i] as string;
    if (ch === '*') {
      // Runs of stars mean the same as one and would only slow the walk down.
      if (parts.at(-1)?.kind !== 'star') parts.push({ kind: 'star' });
    } else if (ch === '?') parts.push({ kind: 'one' });
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) throw globInvalid(glob, 'a "[" is never closed by "]"');
      parts.push(parseClass(glob, glob.slice(i + 1, close)));
      i = close;
    } else if (ch === ']') throw globInvalid(glob, 'a "]" has no opening "["');
    else if (ch === '!' || ch === '^') throw globInvalid(glob, `"${ch}" is allowed only right after "["`);
    else parts.push({ kind: 'char', ch });
  }
  return parts;
}

function matchesOne(part: GlobPart, ch: string): boolean {
  switch (part.kind) {
    case 'star':
      return false;
    case 'one':
      return true;
    case 'char':
      return part.ch === ch;
    case 'class':
      return part.ranges.some(([from, to]) => ch >= from && ch <= to) !== part.negated;
  }
}

function matchParts(parts: readonly GlobPart[], name: string): boolean {
  let p = 0;
  let n = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (n < name.length) {
    const part = parts[p];
    if (part?.kind === 'star') {
      starAt = p;
      resumeAt = n;
      p += 1;
    } else if (part !== undefined && matchesOne(part, name[n] as string)) {
      p += 1;
      n += 1;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and retry the rest from there.
      p = starAt + 1;
      resumeAt += 1;
      n = resumeAt;
    } else {
      return false;
    }
  }
  while (parts[p]?.kind === 'star') p += 1;
  return p === parts.length;
}

/** The lower-cased glob, or throws `enroll.glob_invalid`. */
export function normalizeGlob(raw: string): string {
  const glob = raw.toLowerCase();
  if (glob.length === 0) throw globInvalid(raw, 'it is empty');
  if (glob.length > maxHostnameLength) {
    throw globInvalid(raw, `it is longer than ${maxHostnameLength} characters`);
  }
  if (!globCharacters.test(glob)) throw globInvalid(raw, 'it holds a character no host name can contain');
  parseGlob(glob);
  return glob;
}

/** A matcher for several globs: true when the hostname matches any of them (case-insensitive). */
export function compileGlobs(globs: readonly string[]): (hostname: string) => boolean {
  const compiled = globs.map((glob) => parseGlob(glob.toLowerCase()));
  return (hostname) => {
    const name = hostname.toLowerCase();
    return compiled.some((parts) => matchParts(parts, name));
  };
}
