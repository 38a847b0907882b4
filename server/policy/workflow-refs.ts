/**
 * References in workflow steps: `{{ .Params.<name> }}` (a workflow parameter) and
 * `{{ .Steps.<id>.<field> }}` (an output of an earlier step). Nothing else between `{{` and `}}` is
 * read: there is no expression language, so what a reference can reach is checked at publish.
 */

/** The outputs each step type leaves for later steps; every step has `status`. */
export const workflowStepOutputs = {
  task: ['status', 'run_id', 'failed_hosts', 'succeeded_hosts'],
  force_push: ['status', 'pushed_hosts'],
  wait_for_convergence: ['status', 'converged_hosts', 'pending_hosts'],
  approval: ['status', 'approved_by'],
  publish: ['status', 'version'],
} as const;

export type WorkflowStepType = keyof typeof workflowStepOutputs;

export type WorkflowRef =
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'step'; readonly step: string; readonly field: string };

export type RefPart = string | WorkflowRef;

const refPattern = /\{\{\s*\.(Params|Steps)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_]+))?\s*\}\}/g;

/**
 * Splits text into literal pieces and references; a `{{` that is not a whole reference is a problem
 * (answered as a message) rather than literal text, so a typo never reaches a host unnoticed.
 */
export function splitRefs(text: string): RefPart[] | string {
  const parts: RefPart[] = [];
  let last = 0;
  for (const m of text.matchAll(refPattern)) {
    const literal = text.slice(last, m.index);
    if (literal.includes('{{') || literal.includes('}}'))
      return `"${literal.slice(0, 80)}" holds a {{ … }} that is not {{ .Params.<name> }} or {{ .Steps.<id>.<field> }}`;
    if (literal !== '') parts.push(literal);
    const [, root, name, field] = m as unknown as [string, string, string, string | undefined];
    if (root === 'Params') {
      if (field !== undefined) return `{{ .Params.${name}.${field} }}: a parameter has no fields`;
      parts.push({ kind: 'param', name });
    } else {
      if (field === undefined)
        return `{{ .Steps.${name} }} names no output; write {{ .Steps.${name}.<field> }}`;
      parts.push({ kind: 'step', step: name, field });
    }
    last = m.index + m[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}'))
    return `"${rest.slice(0, 80)}" holds a {{ … }} that is not {{ .Params.<name> }} or {{ .Steps.<id>.<field> }}`;
  if (rest !== '') parts.push(rest);
  return parts;
}

export function hasRefs(text: string): boolean {
  return text.includes('{{');
}
