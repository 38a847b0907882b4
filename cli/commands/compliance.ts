/**
 * `vigocli compliance report|waivers`: framework coverage of the fleet, one framework's controls and failing
 * envoys, and the waivers with their expiry. `report --format html` writes a self-contained report page.
 */
import type { ComplianceOverview, FrameworkReport, WaiverView } from '../../server/compliance/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { usageError } from '../errors.ts';
import { table } from '../format.ts';
import { complianceHtml } from './compliance-html.ts';
import { printJson } from './input.ts';

const formats = ['table', 'json', 'html'] as const;
type Format = (typeof formats)[number];
const frameworkName = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The API's largest page of failing envoys. */
const failingLimit = 500;

export const frameworkHeaders = [
  'FRAMEWORK',
  'ENVOYS',
  'CONTROLS',
  'ENFORCED',
  'FAILING',
  'WAIVED',
  'PENDING',
  'COVERAGE',
];

function formatOf(ctx: CommandContext, input: CommandInput): Format {
  const given = input.value('format');
  if (given === undefined) return ctx.json ? 'json' : 'table';
  if (!(formats as readonly string[]).includes(given))
    throw usageError(`--format must be one of ${formats.join(', ')}, got ${given}`);
  return given as Format;
}

const pct = (n: number): string => `${n.toFixed(1)}%`;

async function frameworkDetail(ctx: CommandContext, framework: string): Promise<FrameworkReport> {
  return ctx.client.call<FrameworkReport>(
    'GET',
    `/api/v1/compliance/frameworks/${encodeURIComponent(framework)}?limit=${failingLimit}`,
  );
}

async function report(ctx: CommandContext, input: CommandInput): Promise<void> {
  const format = formatOf(ctx, input);
  const framework = input.value('framework');
  if (framework !== undefined && !frameworkName.test(framework))
    throw usageError(`--framework must be a framework name such as cis or nist-800-53, got ${framework}`);
  const overview = await ctx.client.call<ComplianceOverview>('GET', '/api/v1/compliance');
  const names = framework === undefined ? overview.frameworks.map((f) => f.framework) : [framework];
  const details: FrameworkReport[] = [];
  if (format !== 'table' || framework !== undefined)
    for (const name of names) details.push(await frameworkDetail(ctx, name));
  if (format === 'json')
    return printJson(ctx.io, framework === undefined ? { ...overview, details } : details[0]);
  if (format === 'html') {
    const waivers = await ctx.client.call<{ items: WaiverView[] }>('GET', '/api/v1/compliance/waivers');
    ctx.io.out(complianceHtml({ overview, details, waivers: waivers.items, generatedAtMs: Date.now() }));
    return;
  }
  if (framework === undefined) {
    if (overview.frameworks.length === 0) {
      ctx.io.out('No envoy claims a compliance control.\n');
      return;
    }
    ctx.io.out(
      table(
        frameworkHeaders,
        overview.frameworks.map((f) => [
          f.framework,
          String(f.envoys),
          String(f.controls),
          String(f.enforced),
          String(f.failing),
          String(f.waived),
          String(f.pending),
          pct(f.coveragePct),
        ]),
      ),
    );
    ctx.io.out(`${overview.waivers.active} active waivers, ${overview.waivers.expired} expired\n`);
    return;
  }
  const d = details[0]!;
  ctx.io.out(
    `${d.framework}: ${pct(d.coveragePct)} coverage over ${d.envoys} envoys, ${d.controls} controls\n\n`,
  );
  ctx.io.out(
    table(
      ['CONTROL', 'ENVOYS', 'ENFORCED', 'FAILING', 'WAIVED', 'PENDING'],
      d.controlList.map((c) => [
        c.control,
        String(c.envoys),
        String(c.enforced),
        String(c.failing),
        String(c.waived),
        String(c.pending),
      ]),
    ),
  );
  const page = d.failingEnvoyPage;
  if (page.total === 0) {
    ctx.io.out('\nNo envoy fails a control.\n');
    return;
  }
  ctx.io.out(`\nFailing envoys (${page.total}):\n`);
  ctx.io.out(
    table(
      ['HOSTNAME', 'ENVOY', 'FAILING CONTROLS'],
      page.items.map((e) => [e.hostname, e.envoyId, e.failing.join(', ')]),
    ),
  );
  if (page.total > page.items.length) ctx.io.out(`(first ${page.items.length} of ${page.total} shown)\n`);
}

async function waivers(ctx: CommandContext): Promise<void> {
  const list = await ctx.client.call<{ items: WaiverView[] }>('GET', '/api/v1/compliance/waivers');
  if (ctx.json) return printJson(ctx.io, list);
  if (list.items.length === 0) {
    ctx.io.out('The active configuration has no waivers.\n');
    return;
  }
  ctx.io.out(
    table(
      ['FRAMEWORK', 'CONTROL', 'MATCH', 'OWNER', 'EXPIRES', 'STATE', 'ENVOYS', 'REASON'],
      list.items.map((w) => [
        w.framework,
        w.control,
        w.match.join(','),
        w.owner,
        w.expires,
        w.expired ? 'EXPIRED' : 'active',
        String(w.envoys),
        w.reason.split('\n', 1)[0] ?? '',
      ]),
    ),
  );
}

export const complianceCommands: readonly CommandSpec[] = [
  {
    path: ['compliance', 'report'],
    summary: 'Framework coverage of the fleet, or one framework with its controls and failing envoys',
    flags: [
      { name: 'framework', value: 'F', doc: 'only this framework (cis, nist-800-53, …)' },
      {
        name: 'format',
        value: 'FORMAT',
        doc: 'table (default), json, or html: a self-contained report page',
      },
    ],
    details: 'With --format html the report is written to stdout: redirect it to a file, e.g. > report.html.',
    run: report,
  },
  {
    path: ['compliance', 'waivers'],
    summary: 'Waivers of the active configuration with their owner, expiry and the envoys they cover',
    run: (ctx) => waivers(ctx),
  },
];
