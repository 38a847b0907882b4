/** The table row and number formats every section of the bench:checkin report shares. */
import type { PhaseFigures } from './phases.ts';

export interface Row {
  figure: string;
  value: string;
  target: string;
  pass?: boolean | undefined;
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export const fixed = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

export const latency = (phase: PhaseFigures): string =>
  `${fixed(phase.p50Ms, 1)} / ${fixed(phase.p99Ms, 1)} ms`;

export const row = (figure: string, value: string, target = '', pass?: boolean): Row => ({
  figure,
  value,
  target,
  pass,
});

export function phaseProblems(name: string, phase: PhaseFigures): string[] {
  const lines = Object.entries(phase.errors).map(([key, count]) => `${name}: ${count} × ${key}`);
  if (phase.bundles > 0)
    lines.push(`${name}: ${phase.bundles} check-ins answered with a bundle, not no-change`);
  if (phase.dropped > 0)
    lines.push(`${name}: ${phase.dropped} scheduled check-ins not sent (too many in flight)`);
  if (phase.unresolvedRuns > 0) lines.push(`${name}: ${phase.unresolvedRuns} runs never acknowledged`);
  if (phase.loadgenCores > 0.9) {
    lines.push(
      `${name}: load generators at ${fixed(phase.loadgenCores * 100)}% of a core: the client may be the limit`,
    );
  }
  if (phase.otherCores > 0.25) {
    lines.push(
      `${name}: other processes used ${fixed(phase.otherCores, 2)} cores meanwhile: figures understated`,
    );
  }
  return lines;
}

export function cores(phase: PhaseFigures): string {
  return (
    `server ${fixed(phase.serverCores * 100)}%, load generators ${fixed(phase.loadgenCores * 100)}% each, ` +
    `others ${fixed(phase.otherCores * 100)}%`
  );
}

export function round(n: number, digits = 0): number {
  return Number.isFinite(n) ? Number(n.toFixed(digits)) : -1;
}
