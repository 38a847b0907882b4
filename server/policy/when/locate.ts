import { VigoError } from '../../core/index.ts';
import type { ErrorCode } from '../../core/index.ts';

export interface WhenSource {
  file: string;
  line: number;
  col: number;
}

/** A problem at an offset in the expression; turned into a located VigoError by the caller. */
export class WhenFault extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'WhenFault';
  }
}

/**
 * Builds errors that point into the file: `file:line:col: reason` followed by the expression line
 * and a caret under the offending token. Later lines of a multi-line value keep the start column's
 * indentation, matching YAML block scalars.
 */
export function whenError(
  code: Extract<ErrorCode, 'policy.when_syntax' | 'policy.when_eval'>,
  text: string,
  source: WhenSource,
  offset: number,
  reason: string,
): VigoError {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const lineStart = text.lastIndexOf('\n', clamped - 1) + 1;
  const lineEndAt = text.indexOf('\n', clamped);
  const lineText = text.slice(lineStart, lineEndAt < 0 ? text.length : lineEndAt);
  const linesBefore = text.slice(0, lineStart).split('\n').length - 1;
  const line = source.line + linesBefore;
  const col = source.col + (clamped - lineStart);
  const caret = `${' '.repeat(clamped - lineStart)}^`;
  const message = `${source.file}:${line}:${col}: ${reason}\n  ${lineText}\n  ${caret}`;
  return new VigoError(code, message, { file: source.file, line, col, reason });
}

export { closestName, listNames } from '../../core/index.ts';
