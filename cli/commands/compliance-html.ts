/**
 * The HTML form of `vigocli compliance report`: one self-contained page (inline CSS, no scripts, no external
 * resources) that can be mailed or archived as evidence. Every value from the server is escaped.
 */
import type { ComplianceOverview, FrameworkReport, WaiverView } from '../../server/compliance/index.ts';

export interface HtmlReportInput {
  readonly overview: ComplianceOverview;
  readonly details: readonly FrameworkReport[];
  readonly waivers: readonly WaiverView[];
  readonly generatedAtMs: number;
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => entities[c]!);
}

const style = `
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
th{background:#f6f8fa}
.gauge{display:inline-block;width:12rem;height:.8rem;background:#eee;border-radius:.4rem;overflow:hidden;vertical-align:middle}
.gauge span{display:block;height:100%;background:#2da44e}
.expired td{background:#ffebe9}
.failing{color:#cf222e;font-weight:600}
`;

function gauge(pct: number): string {
  const width = Math.max(0, Math.min(100, pct));
  return `<span class="gauge" role="img" aria-label="${escapeHtml(pct)}% coverage"><span style="width:${width}%"></span></span> ${escapeHtml(pct.toFixed(1))}%`;
}

function rows(cells: readonly (readonly string[])[], rowClass?: (i: number) => string): string {
  return cells
    .map(
      (r, i) =>
        `<tr${rowClass?.(i) ? ` class="${rowClass(i)}"` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`,
    )
    .join('\n');
}

function head(names: readonly string[]): string {
  return `<tr>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;
}

function frameworkSection(d: FrameworkReport): string {
  const controls = rows(
    d.controlList.map((c) => [
      escapeHtml(c.control),
      escapeHtml(c.envoys),
      escapeHtml(c.enforced),
      c.failing > 0 ? `<span class="failing">${escapeHtml(c.failing)}</span>` : '0',
      escapeHtml(c.waived),
      escapeHtml(c.pending),
    ]),
  );
  const failing = d.failingEnvoyPage;
  const failingTable =
    failing.total === 0
      ? '<p>No envoy fails a control.</p>'
      : `<table>${head(['Hostname', 'Envoy', 'Failing controls'])}${rows(
          failing.items.map((e) => [
            escapeHtml(e.hostname),
            escapeHtml(e.envoyId),
            escapeHtml(e.failing.join(', ')),
          ]),
        )}</table>${failing.total > failing.items.length ? `<p>First ${failing.items.length} of ${failing.total} failing envoys.</p>` : ''}`;
  return `<section><h2>${escapeHtml(d.framework)}</h2>
<p>${gauge(d.coveragePct)} over ${escapeHtml(d.envoys)} envoys and ${escapeHtml(d.controls)} controls</p>
<table>${head(['Control', 'Envoys', 'Enforced', 'Failing', 'Waived', 'Pending'])}
${controls}</table>
<h3>Failing envoys</h3>
${failingTable}</section>`;
}

export function complianceHtml(input: HtmlReportInput): string {
  const { overview } = input;
  const summary = rows(
    overview.frameworks.map((f) => [
      escapeHtml(f.framework),
      gauge(f.coveragePct),
      escapeHtml(f.envoys),
      escapeHtml(f.enforced),
      escapeHtml(f.failing),
      escapeHtml(f.waived),
      escapeHtml(f.pending),
    ]),
  );
  const waivers = rows(
    input.waivers.map((w) => [
      escapeHtml(w.framework),
      escapeHtml(w.control),
      escapeHtml(w.match.join(', ')),
      escapeHtml(w.owner),
      escapeHtml(w.expires),
      w.expired ? 'expired' : 'active',
      escapeHtml(w.reason),
    ]),
    (i) => (input.waivers[i]!.expired ? 'expired' : ''),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigo compliance report</title><style>${style}</style></head>
<body>
<h1>Vigo compliance report</h1>
<p>Generated ${escapeHtml(new Date(input.generatedAtMs).toISOString())} over ${escapeHtml(overview.envoys)} envoys.</p>
<table>${head(['Framework', 'Coverage', 'Envoys', 'Enforced', 'Failing', 'Waived', 'Pending'])}
${summary}</table>
${input.details.map(frameworkSection).join('\n')}
<h2>Waivers</h2>
${input.waivers.length === 0 ? '<p>No waivers.</p>' : `<table>${head(['Framework', 'Control', 'Match', 'Owner', 'Expires', 'State', 'Reason'])}\n${waivers}</table>`}
<p>Risk score: ${escapeHtml(overview.riskFormula)}</p>
</body></html>
`;
}
