import { VigoError } from '../../core/index.ts';

export interface TemplateSource {
  file: string;
  line: number;
  col: number;
}

/**
 * Maps offsets inside a template string back to its file. Lines after the first keep the start
 * column's indentation: a YAML block scalar strips the same indentation from every line, so adding
 * it back lands on the right column in the file; template files start at 1:1, where this is a no-op.
 */
export class Locator {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly source: TemplateSource,
    text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const col = offset - (this.lineStarts[lo] ?? 0) + this.source.col;
    return { line: this.source.line + lo, col };
  }

  limitError(offset: number, limit: string, reason: string): VigoError {
    return limitErrorOf(this, offset, limit, reason);
  }

  /** The error every template failure becomes: message prefixed with file:line:col, details for tools. */
  error(offset: number, reason: string): VigoError {
    const { line, col } = this.position(offset);
    const file = this.source.file;
    return new VigoError('policy.template', `${file}:${line}:${col}: ${reason}`, {
      file,
      line,
      col,
      reason,
    });
  }
}

/**
 * Over a render budget (budget.ts): its own error code, so a stack that is merely too expensive is told
 * so with the limit it went over, not with a template error.
 */
export function limitErrorOf(locator: Locator, offset: number, limit: string, reason: string): VigoError {
  const { line, col } = locator.position(offset);
  const file = locator.source.file;
  return new VigoError('policy.template_limit', `${file}:${line}:${col}: ${reason}`, {
    file,
    line,
    col,
    reason,
    limit,
  });
}

/** A failure found before its position is known; the caller that knows the offset converts it. */
export class TemplateFault extends Error {
  constructor(
    message: string,
    readonly offset: number | undefined = undefined,
  ) {
    super(message);
    this.name = 'TemplateFault';
  }
}

export { closestName, listNames } from '../../core/index.ts';
