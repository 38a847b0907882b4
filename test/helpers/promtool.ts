/**
 * Runs Prometheus's promtool (Debian package `prometheus`). CI installs it when it is missing (.ci/run)
 * and sets VIGO_REQUIRE_PROMTOOL=1, so there a missing promtool fails the run; on a machine without it and
 * without that variable the promtool tests are skipped, saying why.
 */
import { spawn } from 'node:child_process';
import { findTool } from './find-tool.ts';

function findPromtool(): string | undefined {
  return findTool('promtool');
}

/** The Prometheus server of the same package, or undefined where it is not installed. */
export function findPrometheus(): string | undefined {
  return findTool('prometheus');
}

/** Why the promtool tests are skipped here, or undefined when they run. */
export function promtoolSkipReason(): string | undefined {
  if (findPromtool() !== undefined || process.env['VIGO_REQUIRE_PROMTOOL'] === '1') return undefined;
  return 'no promtool on PATH: install it with "apt-get install prometheus" to run these tests (VIGO_REQUIRE_PROMTOOL=1 makes its absence a failure)';
}

export interface PromtoolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs promtool with `args`, feeding `stdin` when given; fails when promtool is not installed. */
export function promtool(args: readonly string[], stdin?: string): Promise<PromtoolResult> {
  const bin = findPromtool();
  if (bin === undefined)
    throw new Error(
      'promtool is not installed; install it with "apt-get install prometheus" (.ci/run does this in CI)',
    );
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
