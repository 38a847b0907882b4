/**
 * `vigocli config validate DIR`: the publish validator, run by the server (the default) or here without
 * a server or credentials (`--offline`, for CI pipelines and pre-commit hooks). Offline, the server's own
 * validator worker runs in this process with the server's default limits (heap, time, files, bytes);
 * checks that need server state are listed as skipped. Diagnostics go to stdout as text, JSON or SARIF
 * 2.1.0; the exit code is 0 without errors and 1 with at least one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configRegistry } from '../../server/config/index.ts';
import { isVigoError, silentLogger } from '../../server/core/index.ts';
import type { Diagnostic } from '../../server/policy/index.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { readStackDir } from './stack-files.ts';
import { toSarif } from './config-sarif.ts';

/** A check the validation could not make, and why. */
export interface SkippedCheck {
  check: string;
  reason: string;
}

export interface ValidateOutput {
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
  skipped: SkippedCheck[];
}

const formats = ['text', 'json', 'sarif'] as const;
type Format = (typeof formats)[number];

const defaultContext = { mode: 'user', env: {}, cwd: process.cwd(), systemDir: '/srv/vigo' } as const;

/** The server's defaults, so a tree that validates here is not refused there for its size or cost. */
export function offlineLimits(): { maxBytes: number; timeoutMs: number; maxHeapMb: number } {
  return {
    maxBytes: configRegistry['publish.max_upload_bytes'].defaultValue(defaultContext),
    timeoutMs: configRegistry['publish.validate_timeout'].defaultValue(defaultContext),
    maxHeapMb: configRegistry['publish.validate_max_heap_mb'].defaultValue(defaultContext),
  };
}

export const offlineSkipped: readonly SkippedCheck[] = [
  {
    check: 'secret.unresolved',
    reason: 'offline: secret references are not checked against the server secrets provider',
  },
  {
    check: 'guard.protected_path',
    reason: "offline: the server's protected paths (its data dir, publish.protected_paths) are not known",
  },
  { check: 'url.unreachable', reason: 'offline: source: URLs are not probed' },
];

/** Counts the files and bytes the validator would read, refusing a tree over the server's limits. */
export function checkTreeSize(dir: string, maxFiles: number, maxBytes: number): void {
  let files = 0;
  let bytes = 0;
  const walk = (abs: string): void => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = path.join(abs, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        files += 1;
        bytes += fs.lstatSync(child).size;
        if (files > maxFiles)
          throw new CliError(
            cliExitCodes.error,
            'publish.upload_invalid',
            `${dir} holds more than ${maxFiles} files; the server accepts at most ${maxFiles}`,
          );
        if (bytes > maxBytes)
          throw new CliError(
            cliExitCodes.error,
            'request.too_large',
            `${dir} holds more than ${maxBytes} bytes of files; the server accepts at most ${maxBytes} (publish.max_upload_bytes)`,
          );
      }
    }
  };
  walk(dir);
}

async function validateOffline(dir: string): Promise<Diagnostic[]> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory())
    throw usageError(`${dir} is not a directory of stacks`);
  const limits = offlineLimits();
  // Loaded here, not with vigocli: every other command starts without the validator's modules.
  const { createValidatorPool, uploadLimits } = await import('../../server/publish/index.ts');
  checkTreeSize(root, uploadLimits.maxFiles, limits.maxBytes);
  const pool = createValidatorPool({
    log: silentLogger,
    limits: () => ({ timeoutMs: limits.timeoutMs, maxHeapMb: limits.maxHeapMb, maxQueued: 0 }),
  });
  try {
    const outcome = await pool.run({
      tree: { kind: 'dir', dir: root },
      options: {
        protectedPaths: [],
        protectedServices: ['vigosrv', 'vigo-envoy'],
        knownSecrets: [],
        secretsUnchecked: true,
      },
      nowMs: Date.now(),
      wantSnapshot: false,
    });
    return outcome.diagnostics;
  } catch (err) {
    if (isVigoError(err)) throw new CliError(cliExitCodes.error, err.code, err.message);
    throw err;
  } finally {
    await pool.close();
  }
}

function formatOf(ctx: CommandContext, input: CommandInput): Format {
  const given = input.value('format');
  if (given === undefined) return ctx.json ? 'json' : 'text';
  if (!(formats as readonly string[]).includes(given))
    throw usageError(`--format must be one of ${formats.join(', ')}, got ${JSON.stringify(given)}`);
  return given as Format;
}

export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? `\n    hint: ${d.hint}` : '';
  return `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}${hint}`;
}

function render(dir: string, format: Format, out: ValidateOutput): string {
  if (format === 'json') return `${JSON.stringify(out, null, 2)}\n`;
  if (format === 'sarif') return `${JSON.stringify(toSarif(dir, out.diagnostics, out.skipped), null, 2)}\n`;
  const lines = out.diagnostics.map(formatDiagnostic);
  for (const s of out.skipped) lines.push(`note: skipped ${s.check}: ${s.reason}`);
  lines.push(
    out.errors === 0
      ? `${dir}: valid (${out.warnings} warnings, ${out.diagnostics.length - out.warnings} notes)`
      : `${dir}: ${out.errors} error(s), ${out.warnings} warning(s)`,
  );
  return `${lines.join('\n')}\n`;
}

async function validate(ctx: CommandContext, input: CommandInput): Promise<void> {
  const [dir = ''] = input.args;
  const format = formatOf(ctx, input);
  let diagnostics: Diagnostic[];
  let skipped: SkippedCheck[] = [];
  if (input.has('offline')) {
    diagnostics = await validateOffline(dir);
    skipped = [...offlineSkipped];
  } else {
    const files = readStackDir(dir);
    const report = await ctx.client
      .call<{ ok: boolean; diagnostics: Diagnostic[]; entries: number }>('POST', '/api/v1/config/validate', {
        files,
      })
      .catch((err: unknown) => {
        // No silent fallback: checks only the server can make must not vanish because it is down.
        if (err instanceof CliError && err.exitCode === cliExitCodes.unreachable)
          throw new CliError(
            err.exitCode,
            err.code,
            `${err.message}; to validate without a server: vigocli config validate --offline ${dir}`,
            err.requestId,
            { cause: err },
          );
        throw err;
      });
    diagnostics = report.diagnostics;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  ctx.io.out(render(dir, format, { ok: errors === 0, errors, warnings, diagnostics, skipped }));
  if (errors > 0)
    throw new CliError(cliExitCodes.error, 'publish.stacks_invalid', `${dir} does not validate`);
}

export const validateCommand: CommandSpec = {
  path: ['config', 'validate'],
  summary: 'Validate a stacks directory with the same checks as publish; nothing is changed',
  args: [{ name: 'DIR', doc: 'the stacks directory (configcrates/, roles.vgo, envoys.vgo …)' }],
  flags: [
    {
      name: 'offline',
      doc: 'validate here, without a server or credentials; checks that need the server are listed as skipped',
    },
    { name: 'format', value: 'FORMAT', doc: 'text (default), json or sarif (SARIF 2.1.0, for CI)' },
  ],
  details:
    'Diagnostics are printed on stdout as FILE:LINE:COL: SEVERITY CODE: MESSAGE. Exit 0 when nothing is an ' +
    'error (warnings allowed), 1 when at least one diagnostic is an error. Without --offline the server ' +
    'validates (secret references, protected paths and its URL check included); --offline never uses the network.',
  run: validate,
};
