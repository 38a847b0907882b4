/**
 * The envoy table of /envoys: health (the badge follows convergence), last run, OS and address from the
 * envoy's traits, config version, sortable headers, and a checkbox per row for the bulk actions. Traits
 * documents are read once per distinct hash on a page (at most a page's worth of lookups).
 */
import type { EnvoyEntry } from '../../server/fleet/index.ts';
import { envoyReachability } from '../../server/fleet/index.ts';
import type { LatestRun } from '../../server/runs/index.ts';
import type { EnvoyOrder, EnvoySort } from '../envoy-query.ts';
import { envoyHealth } from '../fleet-stats.ts';
import { badge, timeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';

export interface HostFacts {
  readonly os: string | undefined;
  readonly address: string | undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

const unroutable = /^(127\.|169\.254\.|::1$|fe80:)/i;

/** OS name and first routable address (IPv4 before IPv6) from a traits document, as the agent sends it. */
export function hostFacts(traits: Record<string, unknown> | undefined): HostFacts {
  const os = record(traits?.['os']);
  const osName =
    text(os?.['pretty_name']) ??
    ([text(os?.['distro']), text(os?.['version'])].filter((p) => p !== undefined).join(' ') || undefined);
  const interfaces = record(traits?.['network'])?.['interfaces'];
  const addresses: string[] = [];
  if (Array.isArray(interfaces))
    for (const item of interfaces.slice(0, 64)) {
      const list = record(item)?.['addresses'];
      if (!Array.isArray(list)) continue;
      for (const cidr of list.slice(0, 64)) {
        const address = text(cidr)?.split('/')[0];
        if (address !== undefined && !unroutable.test(address)) addresses.push(address);
      }
    }
  const address = addresses.find((a) => !a.includes(':')) ?? addresses[0];
  return { os: osName, address };
}

function lastRunCell(e: EnvoyEntry, run: LatestRun | undefined): Html {
  if (run === undefined) return html`<span class="muted">none</span>`;
  const word = run.failed > 0 && run.status !== 'failed' ? 'failed' : run.status;
  const detail = run.failed > 0 ? html` <span class="small">${run.failed} failed</span>` : '';
  const label = html`${badge(word)}${detail}`;
  return e.convergence.lastRunId === ''
    ? label
    : html`<a href="/runs/${encodeURIComponent(e.convergence.lastRunId)}">${label}</a>`;
}

const dash = html`<span class="muted">—</span>`;

/**
 * A wide block (a table) that scrolls inside its own box on a narrow screen, so the page itself never
 * scrolls sideways.
 */
export function scrollBox(content: Html): Html {
  return html`<div class="table-scroll" style="overflow-x: auto; max-width: 100%">${content}</div>`;
}

export interface EnvoyTableOptions {
  readonly nowMs: number;
  readonly activeVersion: number | undefined;
  readonly latestRuns: ReadonlyMap<string, LatestRun>;
  readonly traitsByHash: (hash: string) => Record<string, unknown> | undefined;
  /** Rows get a checkbox tied to this form (the bulk actions), when the viewer may act. */
  readonly selectForm: string | undefined;
  readonly order: EnvoyOrder;
  readonly sortLink: SortLink;
}

/** The URL that shows the list sorted by `sort` in `dir` (the search kept, back to the first page). */
export type SortLink = (sort: EnvoySort, dir: 'asc' | 'desc') => string;

export function envoyRow(
  e: EnvoyEntry,
  options: Pick<EnvoyTableOptions, 'nowMs' | 'activeVersion' | 'selectForm'> & {
    readonly run?: LatestRun;
    readonly facts?: HostFacts;
  },
): Html {
  const current = options.activeVersion !== undefined && e.policyVersion === options.activeVersion;
  const health = envoyHealth(e);
  return html`<tr data-envoy="${e.id}" data-health="${health}">
    ${
      options.selectForm === undefined
        ? ''
        : html`<td>
            <input
              type="checkbox"
              name="id"
              value="${e.id}"
              form="${options.selectForm}"
              aria-label="Select ${e.hostname}"
            />
          </td>`
    }
    <th scope="row"><a href="/envoys/${encodeURIComponent(e.id)}">${e.hostname}</a></th>
    <td>${badge(health)}</td>
    <td>${lastRunCell(e, options.run)}</td>
    <td>${badge(e.convergence.drift)}</td>
    <td>${badge(envoyReachability(e))}</td>
    <td>${timeCell(e.lastSeenAtMs, options.nowMs)}</td>
    <td data-version="${e.policyVersion}">
      ${e.policyVersion}${current ? html` <span class="muted small">(active)</span>` : ''}
    </td>
    <td>${options.facts?.os ?? dash}</td>
    <td>${options.facts?.address === undefined ? dash : html`<code>${options.facts.address}</code>`}</td>
    <td>${e.agentVersion === '' ? dash : e.agentVersion}</td>
  </tr>`;
}

const columns: readonly { label: string; sort?: EnvoySort }[] = [
  { label: 'Hostname', sort: 'hostname' },
  { label: 'State', sort: 'state' },
  { label: 'Last run' },
  { label: 'Drift' },
  { label: 'Reachability' },
  { label: 'Last seen', sort: 'last_seen' },
  { label: 'Config version', sort: 'version' },
  { label: 'OS' },
  { label: 'Address' },
  { label: 'Agent', sort: 'agent' },
];

function header(column: (typeof columns)[number], options: EnvoyTableOptions, resultsId: string): Html {
  if (column.sort === undefined) return html`<th scope="col">${column.label}</th>`;
  const active = options.order.sort === column.sort;
  const next = active && options.order.dir === 'asc' ? 'desc' : 'asc';
  const href = options.sortLink(column.sort, next);
  const ariaSort = active ? (options.order.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  return html`<th scope="col" aria-sort="${ariaSort}">
    <a
      href="${href}"
      hx-get="${href}"
      hx-target="#${resultsId}"
      hx-swap="outerHTML"
      hx-push-url="true"
      data-sort="${column.sort}"
      >${column.label}${active ? (options.order.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a
    >
  </th>`;
}

export function envoyTable(
  items: readonly EnvoyEntry[],
  options: EnvoyTableOptions,
  resultsId: string,
): Html {
  const traits = new Map<string, HostFacts>();
  const factsOf = (hash: string): HostFacts => {
    let facts = traits.get(hash);
    if (facts === undefined) {
      facts = hostFacts(hash === '' ? undefined : options.traitsByHash(hash));
      traits.set(hash, facts);
    }
    return facts;
  };
  return scrollBox(
    html`<table class="envoys">
      <caption class="visually-hidden">
        Envoys
      </caption>
      <thead>
        <tr>
          ${options.selectForm === undefined ? '' : html`<th scope="col"><span class="visually-hidden">Select</span></th>`}
          ${columns.map((column) => header(column, options, resultsId))}
        </tr>
      </thead>
      <tbody>
        ${items.map((e) =>
          envoyRow(e, {
            ...options,
            run: options.latestRuns.get(e.id),
            facts: factsOf(e.traitsHash),
          }),
        )}
      </tbody>
    </table>`,
  );
}
