/**
 * HTML with escaping by construction. `html` is a tagged template: every interpolated string or number is
 * escaped, nested `Html` values (and arrays of them) are inserted as they are, and false/null/undefined
 * render nothing so `cond && html\`…\`` reads naturally. Untrusted text never reaches a page any other
 * way: there is no public "raw" escape hatch.
 */

/** Held only by this module, so no other code can wrap unescaped text as Html. */
const minted = Symbol('html');

/** A fragment of HTML that is safe to insert as is (it came from `html`). */
export class Html {
  readonly text: string;

  constructor(key: typeof minted, text: string) {
    if (key !== minted) throw new TypeError('Html is made only by the html tagged template');
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const escapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => escapes[ch] ?? ch);
}

function append(out: string[], value: HtmlValue): void {
  if (value === null || value === undefined || typeof value === 'boolean') return;
  if (value instanceof Html) out.push(value.text);
  else if (typeof value === 'string') out.push(escapeHtml(value));
  else if (typeof value === 'number') out.push(escapeHtml(String(value)));
  else for (const item of value) append(out, item);
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  const out: string[] = [];
  strings.forEach((literal, i) => {
    out.push(literal);
    if (i < values.length) append(out, values[i]);
  });
  return new Html(minted, out.join(''));
}

/** Joins fragments with a separator (itself escaped when it is text). */
export function joinHtml(items: readonly HtmlValue[], separator: HtmlValue = ''): Html {
  const out: HtmlValue[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(separator);
    out.push(item);
  });
  return html`${out}`;
}
