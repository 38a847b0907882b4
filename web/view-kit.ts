/**
 * The view kit every page is composed from: a page declares its table columns, form fields and actions as
 * data, and these few components render them. Escaping, the CSRF field, the scroll box that keeps a wide
 * table from widening the page, labels tied to their inputs and confirmation prompts are done here once.
 */
import { badge } from './format.ts';
import type { Html, HtmlValue } from './html.ts';
import { html } from './html.ts';
import type { Viewer } from './page-kit.ts';

export { badge };

/** The hidden field that carries the session's CSRF token in a plain form post. */
export function csrfField(viewer: Viewer | undefined): Html {
  return viewer?.csrfToken === undefined
    ? html``
    : html`<input type="hidden" name="_csrf" value="${viewer.csrfToken}" />`;
}

/** What a list shows when it has nothing in it, with an optional next step. */
export function emptyState(message: HtmlValue, next?: HtmlValue): Html {
  return html`<div class="empty-state">
    <p class="muted">${message}</p>
    ${next === undefined ? '' : html`<p>${next}</p>`}
  </div>`;
}

export interface Column<T> {
  readonly header: string;
  /** The header is read by screen readers only (an actions column). */
  readonly hiddenHeader?: boolean;
  /** The cell of this column is the row's header (`<th scope="row">`). */
  readonly rowHeader?: boolean;
  readonly className?: string;
  /** False leaves the column out (for example a column only admins see). */
  readonly when?: boolean;
  readonly cell: (row: T) => HtmlValue;
}

export interface TableSpec<T> {
  /** Names the table for screen readers and its scroll box. */
  readonly caption: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  /** Shown instead of the table when there are no rows. */
  readonly empty: HtmlValue;
  readonly className?: string;
  readonly rowClass?: (row: T) => string | undefined;
}

/**
 * A table inside its own horizontally scrolling box (focusable, so keyboard users can scroll it), so a
 * wide table never makes the whole page scroll sideways on a narrow screen.
 */
export function dataTable<T>(spec: TableSpec<T>): Html {
  if (spec.rows.length === 0) return emptyState(spec.empty);
  const columns = spec.columns.filter((col) => col.when !== false);
  const head = columns.map((col) =>
    col.hiddenHeader === true
      ? html`<th scope="col"><span class="visually-hidden">${col.header}</span></th>`
      : html`<th scope="col">${col.header}</th>`,
  );
  const body = spec.rows.map((row) => {
    const cls = spec.rowClass?.(row);
    const cells = columns.map((col) => {
      const attrs = col.className === undefined ? '' : html` class="${col.className}"`;
      return col.rowHeader === true
        ? html`<th scope="row" ${attrs}>${col.cell(row)}</th>`
        : html`<td${attrs}>${col.cell(row)}</td>`;
    });
    return html`<tr${cls === undefined ? '' : html` class="${cls}"`}>${cells}</tr>`;
  });
  return html`<div class="table-wrap" role="region" aria-label="${spec.caption}" tabindex="0">
    <table${spec.className === undefined ? '' : html` class="${spec.className}"`}>
      <caption class="visually-hidden">${spec.caption}</caption>
      <thead>
        <tr>${head}</tr>
      </thead>
      <tbody>
        ${body}
      </tbody>
    </table>
  </div>`;
}

interface FieldBase {
  readonly name: string;
  readonly label: string;
  /** Defaults to the name; give one when the same name appears twice on a page. */
  readonly id?: string;
  readonly help?: HtmlValue;
  readonly required?: boolean;
}

export interface InputField extends FieldBase {
  readonly kind: 'text' | 'password' | 'email' | 'number' | 'search' | 'datetime-local';
  readonly value?: string | number;
  readonly placeholder?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly autocomplete?: string;
  readonly autofocus?: boolean;
  readonly spellcheck?: boolean;
}

export interface SelectField extends FieldBase {
  readonly kind: 'select';
  readonly options: readonly { readonly value: string; readonly label: string }[];
  readonly selected?: string;
}

export interface HiddenField {
  readonly kind: 'hidden';
  readonly name: string;
  readonly value: string;
}

export type FieldSpec = InputField | SelectField | HiddenField;

function attr(name: string, value: string | number | undefined): Html {
  return value === undefined ? html`` : html` ${name}="${value}"`;
}

function flag(name: string, on: boolean | undefined): Html {
  return on === true ? html` ${name}` : html``;
}

function control(spec: InputField | SelectField, id: string, describedBy: string | undefined): Html {
  const common = html`id="${id}"
  name="${spec.name}"${flag('required', spec.required)}${attr('aria-describedby', describedBy)}`;
  if (spec.kind === 'select') {
    return html`<select ${common}>
      ${spec.options.map(
        (o) =>
          html`<option value="${o.value}" ${flag('selected', o.value === spec.selected)}>${o.label}</option>`,
      )}
    </select>`;
  }
  return html`<input
    type="${spec.kind}"
    ${common}${attr('value', spec.value)}${attr('placeholder', spec.placeholder)}${attr('maxlength', spec.maxLength)}${attr('minlength', spec.minLength)}${attr('min', spec.min)}${attr('max', spec.max)}${attr('pattern', spec.pattern)}${attr('autocomplete', spec.autocomplete)}${flag('autofocus', spec.autofocus)}${spec.spellcheck === false ? html` spellcheck="false"` : ''}
  />`;
}

/** A label, its control and the help text the control is described by. */
export function field(spec: FieldSpec): Html {
  if (spec.kind === 'hidden') return html`<input type="hidden" name="${spec.name}" value="${spec.value}" />`;
  const id = spec.id ?? spec.name;
  const helpId = spec.help === undefined ? undefined : `${id}-help`;
  return html`<label for="${id}">${spec.label}</label> ${control(spec, id, helpId)}
    ${helpId === undefined ? '' : html`<p id="${helpId}" class="muted small">${spec.help}</p>`}`;
}

export interface FormSpec {
  readonly action: string;
  readonly method?: 'post' | 'get';
  /** Posts carry this viewer's CSRF token. */
  readonly viewer?: Viewer;
  readonly fields: readonly FieldSpec[];
  readonly submit: string;
  readonly tone?: 'primary' | 'danger' | 'plain';
  /** `grid`: labels beside fields; `stack`: labels above; `filters`: one row that wraps. */
  readonly layout?: 'grid' | 'stack' | 'filters';
  /** Asked in a dialog before the form is sent (app.js). */
  readonly confirm?: string;
  readonly id?: string;
}

export function formView(spec: FormSpec): Html {
  const method = spec.method ?? 'post';
  const layout = spec.layout ?? 'grid';
  const tone = spec.tone ?? 'primary';
  const button = html`<button type="submit" ${tone === 'plain' ? '' : html` class="${tone}"`}>
    ${spec.submit}
  </button>`;
  const fields =
    layout === 'filters'
      ? spec.fields.map((f) => (f.kind === 'hidden' ? field(f) : html`<div class="field">${field(f)}</div>`))
      : spec.fields.map(field);
  return html`<form
    method="${method}"
    action="${spec.action}"
    class="${layout === 'grid' ? 'grid-form' : layout}"
    ${attr('id', spec.id)}${attr('data-confirm', spec.confirm)}${layout === 'filters' ? html` role="search"` : ''}
  >
    ${method === 'post' ? csrfField(spec.viewer) : ''} ${fields}
    ${layout === 'grid' ? html`<div class="form-actions">${button}</div>` : button}
  </form>`;
}

/** A titled, collapsible box around a form or section. */
export function panel(title: string, body: HtmlValue, open = true): Html {
  return html`<details class="panel" ${flag('open', open)}>
    <summary><h2>${title}</h2></summary>
    ${body}
  </details>`;
}

export interface ActionSpec {
  readonly action: string;
  readonly viewer: Viewer;
  readonly label: string;
  /** Asked before the post; say what happens and whether it can be undone. */
  readonly confirm?: string;
  readonly tone?: 'danger' | 'plain';
  readonly hidden?: Readonly<Record<string, string>>;
}

/** One button that posts an action, asking first when `confirm` is given. */
export function actionButton(spec: ActionSpec): Html {
  const hidden = Object.entries(spec.hidden ?? {}).map(([name, value]) =>
    field({ kind: 'hidden', name, value }),
  );
  return html`<form
    method="post"
    action="${spec.action}"
    class="inline"
    ${attr('data-confirm', spec.confirm)}
  >
    ${csrfField(spec.viewer)}${hidden}<button
      type="submit"
      class="small${spec.tone === 'danger' ? ' danger' : ''}"
    >
      ${spec.label}
    </button>
  </form>`;
}

export interface ConfirmStepSpec {
  readonly title: string;
  /** What will happen, shown before the button (a preview, a count of what changes). */
  readonly body: HtmlValue;
  readonly action: string;
  readonly viewer: Viewer;
  readonly confirmLabel: string;
  readonly cancelHref: string;
  readonly hidden?: Readonly<Record<string, string>>;
}

/**
 * The second step of a consequential action as a page section: what will happen, then a button that
 * posts with `confirmed=yes` and a way back. Works without script, unlike a dialog.
 */
export function confirmStep(spec: ConfirmStepSpec): Html {
  const hidden = Object.entries({ ...spec.hidden, confirmed: 'yes' }).map(([name, value]) =>
    field({ kind: 'hidden', name, value }),
  );
  return html`<section class="confirm-step panel" aria-labelledby="confirm-step-title">
    <h2 id="confirm-step-title">${spec.title}</h2>
    ${spec.body}
    <form method="post" action="${spec.action}" class="inline">
      ${csrfField(spec.viewer)}${hidden}
      <button type="submit" class="danger">${spec.confirmLabel}</button>
      <a href="${spec.cancelHref}">Cancel</a>
    </form>
  </section>`;
}

/** A value shown shortened, whole in the tooltip, with a button that copies the whole of it (app.js). */
export function copyable(value: string, shownLength = 12): Html {
  const shown = value.length > shownLength ? `${value.slice(0, shownLength)}…` : value;
  return html`<span class="copyable"
    ><code title="${value}">${shown}</code
    ><button type="button" class="copy small" data-copy-text="${value}" aria-label="Copy ${value}">
      Copy
    </button></span
  >`;
}
