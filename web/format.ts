/** Small view helpers shared by the pages: times, counts, status badges, percentages. */
import type { Html } from './html.ts';
import { html } from './html.ts';

function ago(deltaMs: number): string {
  const seconds = Math.round(deltaMs / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

function ahead(deltaMs: number): string {
  const minutes = Math.round(deltaMs / 60_000);
  if (minutes < 1) return 'in under a minute';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

/** A time as `<time>`: relative text for reading, the exact UTC time as tooltip and machine value. */
export function timeCell(ms: number | null | undefined, nowMs: number, never = 'never'): Html {
  if (ms === null || ms === undefined || ms <= 0) return html`<span class="muted">${never}</span>`;
  const iso = new Date(ms).toISOString();
  const text = ms <= nowMs ? ago(nowMs - ms) : ahead(ms - nowMs);
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

/** Same as timeCell, for an RFC 3339 string (as the domain views return them). */
export function isoTimeCell(iso: string | null | undefined, nowMs: number, never = 'never'): Html {
  return timeCell(iso === null || iso === undefined ? undefined : Date.parse(iso), nowMs, never);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A share as a percentage with one decimal, or an em dash when there is nothing to divide by. */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '—';
  return `${((part / whole) * 100).toFixed(1)} %`;
}

const badgeTones: Readonly<Record<string, string>> = {
  active: 'ok',
  healthy: 'ok',
  failing: 'bad',
  idle: 'muted',
  converged: 'ok',
  changed: 'info',
  stale: 'warn',
  'never seen': 'muted',
  partial: 'warn',
  pending: 'warn',
  expired: 'muted',
  superseded: 'muted',
  rolled_back: 'muted',
  revoked: 'bad',
  failed: 'bad',
  running: 'info',
  dispatched: 'info',
  succeeded: 'ok',
  aborted: 'warn',
  interrupted: 'warn',
  timed_out: 'bad',
  rejected: 'bad',
  disabled: 'bad',
  used_up: 'muted',
  created: 'info',
  updated: 'info',
  deleted: 'info',
  unchanged: 'muted',
  ok: 'ok',
  skipped: 'muted',
  added: 'info',
  removed: 'warn',
  degraded: 'warn',
  no_data: 'muted',
  diverged: 'bad',
  none: 'muted',
  online: 'ok',
  offline: 'bad',
};

/** A status word with a colour that also reads without colour (the word itself carries the meaning). */
export function badge(status: string): Html {
  // Own keys only: a status such as "constructor" must not pick up Object.prototype's.
  const tone = Object.hasOwn(badgeTones, status) ? badgeTones[status] : 'muted';
  return html`<span class="badge badge-${tone}">${status}</span>`;
}

/** Long identifiers (hashes) shortened for tables, whole in the tooltip. */
export function shortHash(hash: string | null | undefined, length = 12): Html {
  if (hash === null || hash === undefined || hash === '') return html`<span class="muted">—</span>`;
  return html`<code title="${hash}">${hash.length > length ? `${hash.slice(0, length)}…` : hash}</code>`;
}

/** A freshly created credential, shown once with a copy button (app.js copies it). */
export function secretOnce(label: string, secret: string): Html {
  return html`<div class="banner banner-ok secret-once" role="status">
    <p><strong>${label}</strong> Copy it now: it is shown only this once and cannot be recovered.</p>
    <div class="copy-row">
      <input
        id="new-secret"
        class="secret"
        readonly
        value="${secret}"
        aria-label="${label}"
        spellcheck="false"
      />
      <button type="button" data-copy="#new-secret">Copy</button>
    </div>
  </div>`;
}
