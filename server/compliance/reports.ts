/**
 * The read side of compliance, as the REST API, the CLI and the web pages show it: everything comes from
 * the service's memory (statuses and fleet tallies), nothing from the database.
 */
import { VigoError } from '../core/index.ts';
import { frameworkNamePattern } from '../policy/index.ts';
import { riskFormula } from './risk.ts';
import type { ComplianceService, EnvoyReport, WaiverView } from './service.ts';
import type { ControlSummary, FrameworkSummary } from './tally.ts';

export const reportLimits = { defaultLimit: 50, maxLimit: 500 } as const;

export interface ComplianceOverview {
  readonly frameworks: FrameworkSummary[];
  /** Envoys evaluated (active, served by a match entry or not). */
  readonly envoys: number;
  readonly waivers: { readonly active: number; readonly expired: number };
  readonly riskFormula: string;
}

export interface FailingEnvoy {
  readonly envoyId: string;
  readonly hostname: string;
  readonly failing: string[];
}

export interface FrameworkReport extends FrameworkSummary {
  readonly controlList: ControlSummary[];
  readonly failingEnvoyPage: {
    readonly items: FailingEnvoy[];
    readonly total: number;
    readonly offset: number;
    readonly limit: number;
  };
}

export interface EnvoyComplianceReport extends EnvoyReport {
  readonly waiverDetails: WaiverView[];
}

export function complianceOverview(service: ComplianceService): ComplianceOverview {
  let envoys = 0;
  for (const _ of service.statuses()) envoys += 1;
  const waivers = service.waivers();
  const expired = waivers.filter((w) => w.expired).length;
  return {
    frameworks: service.tally.summaries(),
    envoys,
    waivers: { active: waivers.length - expired, expired },
    riskFormula,
  };
}

export function checkFramework(framework: string): void {
  if (!frameworkNamePattern.test(framework))
    throw new VigoError(
      'request.invalid',
      `framework ${JSON.stringify(framework.slice(0, 80))} is not 1 to 64 lowercase letters, digits, ".", "_" or "-"`,
      { field: 'framework' },
    );
}

export function frameworkReport(
  service: ComplianceService,
  framework: string,
  page: { offset?: number; limit?: number },
): FrameworkReport {
  checkFramework(framework);
  const summary = service.tally.summary(framework);
  if (summary === undefined)
    throw new VigoError(
      'compliance.framework_unknown',
      `no envoy claims a control of framework ${framework}`,
      {
        framework,
      },
    );
  const offset = page.offset ?? 0;
  const limit = Math.min(page.limit ?? reportLimits.defaultLimit, reportLimits.maxLimit);
  const failing: FailingEnvoy[] = [];
  for (const envoyId of service.tally.failingEnvoys(framework)) {
    const status = service.status(envoyId);
    const f = status?.frameworks.find((x) => x.framework === framework);
    if (status === undefined || f === undefined) continue;
    failing.push({
      envoyId,
      hostname: status.hostname,
      failing: f.controls.filter((c) => c.state === 'failing').map((c) => c.control),
    });
  }
  failing.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  return {
    ...summary,
    controlList: service.tally.controls(framework),
    failingEnvoyPage: { items: failing.slice(offset, offset + limit), total: failing.length, offset, limit },
  };
}

/** Undefined when the envoy is not evaluated (unknown or revoked). */
export function envoyComplianceReport(
  service: ComplianceService,
  envoyId: string,
): EnvoyComplianceReport | undefined {
  const report = service.envoy(envoyId);
  if (report === undefined) return undefined;
  const active = new Set(report.activeWaivers);
  return { ...report, waiverDetails: service.waivers().filter((w) => active.has(w.id)) };
}
