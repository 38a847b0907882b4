import { analyze } from './analyze.ts';
import { RenderBudget } from './budget.ts';
import type { TemplateNode } from './ast.ts';
import { execute } from './exec.ts';
import { Locator, TemplateFault } from './locate.ts';
import type { TemplateSource } from './locate.ts';
import { parseTemplate } from './parser.ts';
import { isMap } from './values.ts';

/**
 * Go text/template for Vigo stacks: the syntax, trim markers, control structures, functions and
 * output formatting of Go, plus Sprig-style helpers (default, upper, join, toJson, indent…).
 *
 * Strictness (where this differs from Go, which prints "<no value>"): reading an undefined var or a
 * missing key is an error that names it, unless the read happens
 *   - in the condition of {{if}}, {{else if}}, {{with}}, {{else with}} (anywhere in that pipeline;
 *     there a missing value is Go's nil: false, not equal to anything), or
 *   - as a direct argument of `default`, `and`, `or` or `not` (these treat it as empty).
 * {{range}} over a missing value is an error; guard it with {{with}}. Printing null is an error too.
 * Errors throw VigoError 'policy.template' whose message starts with file:line:col and whose details
 * carry {file, line, col, reason} (reason = the message without the position prefix).
 *
 * Vigo's functions take the piped value last, as Sprig does: `x | default "80"`, `x | replace "a" "b"`,
 * `x | split ","`, `x | contains "sub"`, `x | hasPrefix "p"`, `x | indent 4`. `join` takes its list in
 * either place (`join .list ","` or `.list | join ","`); `contains` with a list on either side tests
 * membership. `default` replaces Go-empty values (missing, null, false, 0, "", empty list/map).
 * Unsupported Go actions: {{define}}, {{template}}, {{block}} (one template per file).
 * Known difference from Go: JS numbers have no int/float type, so an integral number prints and
 * formats as an int (Go prints the float literal 1e6 as "1e+06"; here "1000000").
 */

export type { TemplateSource } from './locate.ts';
export { RenderBudget } from './budget.ts';
export type { BudgetKind } from './budget.ts';

export interface CompiledTemplate {
  readonly source: TemplateSource;
  /** True when the template reads .Traits (so its output depends on the envoy's traits). */
  readonly usesTraits: boolean;
  /** Top-level var names read via .Vars.<name> (for dependency tracking). */
  readonly varsUsed: ReadonlySet<string>;
  /**
   * True when the template reads .Vars as a whole (ranges over it, prints it, passes it to a function,
   * indexes it with a computed key, or uses the data root `$`/`.` as a value): its output may depend
   * on every var, not only on varsUsed.
   */
  readonly readsAllVars: boolean;
  /**
   * Throws VigoError 'policy.template' with details {file,line,col} and a message naming the problem,
   * or 'policy.template_limit' (details.limit: iterations, output or work) when the render goes over
   * `budget` (a fresh one with the default limits when not given).
   */
  render(data: TemplateData, budget?: RenderBudget): string;
}

export interface TemplateData {
  Vars: Record<string, unknown>;
  Traits?: Record<string, unknown>;
  Item?: unknown;
  Each?: unknown;
}

class Template implements CompiledTemplate {
  readonly usesTraits: boolean;
  readonly varsUsed: ReadonlySet<string>;
  readonly readsAllVars: boolean;

  constructor(
    readonly source: TemplateSource,
    private readonly nodes: readonly TemplateNode[],
    private readonly locator: Locator,
  ) {
    try {
      const analysis = analyze(nodes);
      this.usesTraits = analysis.usesTraits;
      this.varsUsed = analysis.varsUsed;
      this.readsAllVars = analysis.readsAllVars;
    } catch (err) {
      throw located(err, locator);
    }
  }

  render(data: TemplateData, budget: RenderBudget = new RenderBudget()): string {
    if (!isMap(data.Vars)) throw this.locator.error(0, 'template data has no .Vars map');
    return execute(this.nodes, data as unknown as Record<string, unknown>, this.locator, budget);
  }
}

function located(err: unknown, locator: Locator): unknown {
  return err instanceof TemplateFault ? locator.error(err.offset ?? 0, err.message) : err;
}

/** Parses once; throws VigoError 'policy.template' on syntax errors, at the exact file:line:col. */
export function compileTemplate(text: string, source: TemplateSource): CompiledTemplate {
  const locator = new Locator(source, text);
  let nodes: TemplateNode[];
  try {
    nodes = parseTemplate(text);
  } catch (err) {
    throw located(err, locator);
  }
  return new Template(source, nodes, locator);
}

/** Whether a string holds template actions at all (plain strings skip compilation). */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}
