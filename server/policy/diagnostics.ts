import { closestName } from '../core/index.ts';
import type { Diagnostic, Severity } from './types.ts';

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface DiagnosticInput {
  severity?: Severity;
  code: string;
  at: Pos;
  message: string;
  hint?: string;
}

interface Aggregate {
  diagnostic: Diagnostic;
  entries: string[];
  entryCount: number;
}

/**
 * Collects diagnostics. Findings that depend on which match entry uses a configcrate (an undefined
 * var, a bad cross-crate reference) are reported once per source position, naming the first entry
 * and how many others share the problem, so 10,000 entries never produce 10,000 copies.
 */
export class DiagnosticSink {
  private readonly plain = new Map<string, Diagnostic>();
  private readonly perEntry = new Map<string, Aggregate>();
  private reported = 0;

  /** Diagnostics reported so far, repeats included: a change tells that something was reported. */
  get count(): number {
    return this.reported;
  }

  add(input: DiagnosticInput): void {
    this.reported++;
    const diagnostic = toDiagnostic(input);
    const key = keyOf(diagnostic);
    if (!this.plain.has(key)) this.plain.set(key, diagnostic);
  }

  error(code: string, at: Pos, message: string, hint = ''): void {
    this.add({ code, at, message, hint });
  }

  warning(code: string, at: Pos, message: string, hint = ''): void {
    this.add({ severity: 'warning', code, at, message, hint });
  }

  info(code: string, at: Pos, message: string, hint = ''): void {
    this.add({ severity: 'info', code, at, message, hint });
  }

  /** Same finding seen while compiling `entryLabel`; merged with earlier sightings of it. */
  addForEntry(input: DiagnosticInput, entryLabel: string): void {
    this.reported++;
    const diagnostic = toDiagnostic(input);
    const key = keyOf(diagnostic);
    const found = this.perEntry.get(key);
    if (found) {
      found.entryCount += 1;
      if (found.entries.length < 3 && !found.entries.includes(entryLabel)) found.entries.push(entryLabel);
      return;
    }
    this.perEntry.set(key, { diagnostic, entries: [entryLabel], entryCount: 1 });
  }

  hasErrors(): boolean {
    for (const d of this.plain.values()) if (d.severity === 'error') return true;
    for (const a of this.perEntry.values()) if (a.diagnostic.severity === 'error') return true;
    return false;
  }

  /** Every diagnostic, sorted by file, line, column, then code. */
  list(): Diagnostic[] {
    const out = [...this.plain.values()];
    for (const a of this.perEntry.values()) {
      const more = a.entryCount - a.entries.length;
      const names = a.entries.join(', ') + (more > 0 ? ` and ${more} more` : '');
      const noun = a.entryCount === 1 ? 'match entry' : `${a.entryCount} match entries`;
      out.push({ ...a.diagnostic, message: `${a.diagnostic.message} (for ${noun}: ${names})` });
    }
    return sortDiagnostics(out);
  }
}

function toDiagnostic(input: DiagnosticInput): Diagnostic {
  return {
    severity: input.severity ?? 'error',
    code: input.code,
    file: input.at.file,
    line: input.at.line,
    col: input.at.col,
    message: input.message,
    hint: input.hint ?? '',
  };
}

function keyOf(d: Diagnostic): string {
  return `${d.code}\0${d.file}\0${d.line}\0${d.col}\0${d.message}`;
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.col - b.col ||
      compareText(a.code, b.code) ||
      compareText(a.message, b.message),
  );
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `did you mean "x"?` or '' — for hints. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closestName(word, candidates);
  return c === undefined ? '' : `did you mean "${c}"?`;
}

export function quoteList(items: Iterable<string>): string {
  return [...items].map((s) => `"${s}"`).join(', ');
}
