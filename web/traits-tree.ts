/**
 * An envoy's traits document as a tree of `<details>` elements: objects and arrays fold, scalars show as
 * `key: value`. Works without JavaScript and with the keyboard (summary elements are focusable). Keys and
 * values come from the agent, so they are escaped like any other untrusted text; depth and size are
 * bounded so a hostile document cannot produce a huge page.
 */
import type { Html } from './html.ts';
import { html } from './html.ts';

export const traitsTreeLimits = { maxDepth: 12, maxNodes: 5000, maxValueLength: 2000 } as const;

/** Top-level groups this small start unfolded; long ones (package lists) start folded. */
const openUpTo = 20;

interface Budget {
  nodes: number;
}

function scalarText(value: unknown): string {
  if (value === null) return 'null';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  return text.length > traitsTreeLimits.maxValueLength
    ? `${text.slice(0, traitsTreeLimits.maxValueLength)}… (${text.length} characters)`
    : text;
}

function isBranch(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function entriesOf(value: Record<string, unknown> | unknown[]): [string, unknown][] {
  if (Array.isArray(value)) return value.map((item, i) => [String(i), item]);
  return Object.keys(value)
    .sort()
    .map((key) => [key, value[key]]);
}

function node(key: string, value: unknown, depth: number, budget: Budget): Html {
  budget.nodes += 1;
  if (budget.nodes > traitsTreeLimits.maxNodes) return html``;
  if (!isBranch(value)) {
    return html`<li>
      <span class="trait-key">${key}</span>: <span class="trait-value">${scalarText(value)}</span>
    </li>`;
  }
  const entries = entriesOf(value);
  const size = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  if (depth >= traitsTreeLimits.maxDepth) {
    return html`<li>
      <span class="trait-key">${key}</span> <span class="muted">${size} (nested too deep to show)</span>
    </li>`;
  }
  return html`<li>
    <details ${depth === 0 && entries.length <= openUpTo ? html`open` : ''}>
      <summary><span class="trait-key">${key}</span> <span class="muted">${size}</span></summary>
      <ul class="trait-children">
        ${entries.map(([k, v]) => node(k, v, depth + 1, budget))}
      </ul>
    </details>
  </li>`;
}

export function traitsTree(traits: Record<string, unknown> | null | undefined): Html {
  if (traits === null || traits === undefined) {
    return html`<p class="muted">No traits reported yet (the agent sends them with its check-ins).</p>`;
  }
  const budget: Budget = { nodes: 0 };
  const items = entriesOf(traits).map(([key, value]) => node(key, value, 0, budget));
  const cut =
    budget.nodes > traitsTreeLimits.maxNodes
      ? html`<p class="muted">Only the first ${traitsTreeLimits.maxNodes} traits are shown.</p>`
      : '';
  return html`<ul class="traits-tree">
      ${items}
    </ul>
    ${cut}`;
}
