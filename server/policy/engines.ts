/**
 * Bridges to the template and when-expression engines: their VigoErrors become diagnostics with the
 * position the engine reported (template file:line inside a `source:` file, or the YAML value).
 */
import { isVigoError } from '../core/index.ts';
import { RenderBudget, compileTemplate, isTemplate } from './template/index.ts';
import type { CompiledTemplate, TemplateData } from './template/index.ts';
import { parseWhen, partialEvaluateWhen } from './when/index.ts';
import type { PartialResult, WhenExpr } from './when/index.ts';
import type { DiagnosticInput, Pos } from './diagnostics.ts';

export type Report = (d: DiagnosticInput) => void;

function positionOf(err: unknown, fallback: Pos): Pos {
  if (!isVigoError(err)) return fallback;
  const d = err.details;
  const file = typeof d.file === 'string' ? d.file : fallback.file;
  const line = typeof d.line === 'number' ? d.line : fallback.line;
  const col = typeof d.col === 'number' ? d.col : fallback.col;
  return { file, line, col };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether the template's output may depend on any variable (so caching by varsUsed is not enough). */
export function readsAllVars(tpl: CompiledTemplate): boolean {
  return tpl.readsAllVars;
}

/** null: not a template (plain text); undefined: a broken template (already reported). */
export function compileField(text: string, at: Pos, report: Report): CompiledTemplate | null | undefined {
  if (!isTemplate(text)) return null;
  try {
    return compileTemplate(text, { file: at.file, line: at.line, col: at.col });
  } catch (err) {
    if (!isVigoError(err) || err.code !== 'policy.template') throw err;
    report({
      code: 'template.error',
      at: positionOf(err, at),
      message: `template error: ${reasonOf(err)}`,
      hint: 'templates use Go text/template syntax: {{ .Vars.name }}, {{ .Traits.os.family }}, {{ .Item }}',
    });
    return undefined;
  }
}

const limitCodes: Record<string, string> = {
  iterations: 'template.iteration_limit',
  output: 'template.output_limit',
  work: 'template.work_limit',
};

export function renderField(
  tpl: CompiledTemplate,
  data: TemplateData,
  at: Pos,
  report: Report,
  budget?: RenderBudget,
): string | undefined {
  try {
    return tpl.render(data, budget);
  } catch (err) {
    if (isVigoError(err) && err.code === 'policy.template_limit') {
      report({
        code: limitCodes[String(err.details.limit)] ?? 'template.output_limit',
        at: positionOf(err, at),
        message: `template stopped: ${reasonOf(err)}; the templates of one resource share this budget`,
        hint: 'loop over less data, or move large generated files out of the stack (docs/stacks.md "Limits")',
      });
      return undefined;
    }
    if (!isVigoError(err) || err.code !== 'policy.template') throw err;
    const reason = reasonOf(err);
    if (/^var "[^"]*" is not defined/.test(reason)) {
      // The engine lists the vars this entry defines; drop that list so the same mistake in many
      // entries stays one diagnostic, but keep its "did you mean".
      report({
        code: 'var.undefined',
        at: positionOf(err, at),
        message: reason
          .replace(/ \((defined vars: .*|no vars are defined)\)$/, '')
          .replace(/^var ("[^"]*") is not defined/, 'template reads variable $1, which is not defined'),
        hint: 'define it in the configcrate\'s vars:, a common.vgo, the match block\'s vars: or environments.vgo (or use {{ .Vars.x | default "…" }})',
      });
    } else {
      report({
        code: 'template.error',
        at: positionOf(err, at),
        message: `template error while rendering: ${reason}`,
      });
    }
    return undefined;
  }
}

/** The engine's reason without the file:line:col prefix (the diagnostic carries the position). */
function reasonOf(err: unknown): string {
  if (isVigoError(err) && typeof err.details.reason === 'string') return err.details.reason;
  return messageOf(err);
}

export function parseWhenAt(text: string, at: Pos, report: Report): WhenExpr | undefined {
  try {
    return parseWhen(text, { file: at.file, line: at.line, col: at.col });
  } catch (err) {
    if (!isVigoError(err) || err.code !== 'policy.when_syntax') throw err;
    report({
      code: 'when.syntax',
      at: positionOf(err, at),
      message: `when: expression ${JSON.stringify(text)} does not parse: ${reasonOf(err)}`,
      hint: "combine builtins with &&, || and !, e.g. os_family('debian') && !is_container",
    });
    return undefined;
  }
}

export function evaluateWhen(
  expr: WhenExpr,
  env: { vars: Record<string, unknown>; traits?: Record<string, unknown> },
  at: Pos,
  report: Report,
): PartialResult | undefined {
  try {
    return partialEvaluateWhen(expr, env);
  } catch (err) {
    if (!isVigoError(err) || (err.code !== 'policy.when_eval' && err.code !== 'policy.when_syntax'))
      throw err;
    report({
      code: 'when.error',
      at: positionOf(err, at),
      message: `when: expression ${JSON.stringify(expr.text)} cannot be evaluated: ${reasonOf(err)}`,
    });
    return undefined;
  }
}

export { RenderBudget, isTemplate };
export type { CompiledTemplate, PartialResult, TemplateData, WhenExpr };
