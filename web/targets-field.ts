/**
 * The "which envoys" field of the orchestration forms (tasks, live queries, force-push): one text input
 * of hostnames, globs, envoy ids or trait filters, and its reading into the `targets` list the services
 * take (they check and resolve it).
 */
import type { Html } from './html.ts';
import { html } from './html.ts';
import type { FormFields } from './page-kit.ts';
import { optionalField } from './page-kit.ts';

const maxFieldLength = 16_384;

export function targetsField(form: FormFields, name: string, label: string, placeholder: string): Html {
  return html`<label for="${name}">${label}</label>
    <input
      id="${name}"
      name="${name}"
      required
      value="${form[name] ?? ''}"
      placeholder="${placeholder}"
      aria-describedby="${name}-help"
    />
    <p id="${name}-help" class="muted small">
      Hostnames, globs, envoy ids or trait filters, separated by commas or spaces.
    </p>`;
}

/** The field's targets; an empty list when it is blank (the services refuse that with its code). */
export function readTargets(form: FormFields, name: string, label: string): string[] {
  return (optionalField(form, name, maxFieldLength, label) ?? '').split(/[\s,]+/).filter((t) => t !== '');
}
