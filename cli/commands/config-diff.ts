/**
 * Field-level configuration diffs as `vigocli config publish --dry-run`, `config show N` and
 * `config rollback N [--dry-run]` print them: each added (+), removed (-) or changed (~) resource, and for
 * a changed one each field as `- old` / `+ new`, coloured on a terminal unless NO_COLOR is set. The server
 * computes them (GET /api/v1/config/versions/{n}/diff) so the CLI and the web UI show the same thing.
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { confirmOrRefuse, printJson } from './input.ts';
import { usageError } from '../errors.ts';

export interface FieldChangeView {
  field: string;
  before?: string;
  after?: string;
}

export interface ResourceChangeView {
  id: string;
  type: string;
  status: 'added' | 'removed' | 'changed';
  entries: string[];
  entryCount: number;
  fields: FieldChangeView[];
  fieldsOmitted: number;
}

export interface FieldDiffView {
  resources: ResourceChangeView[];
  resourcesOmitted: number;
}

export interface VersionDiffView {
  version: number;
  against: number | null;
  entries: number;
  impact: { envoysTotal: number; envoysChanging: number; fields: FieldDiffView };
}

type Paint = (code: string, text: string) => string;

/** Colour only for a person at a terminal: never in a pipe, a file or with NO_COLOR set (no-color.org). */
export function painter(env: NodeJS.ProcessEnv = process.env, tty = process.stdout.isTTY === true): Paint {
  const on = tty && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
  return on ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
}

const red = '31';
const green = '32';
const yellow = '33';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The diff as lines of text (without a trailing newline). */
export function renderFieldDiff(diff: FieldDiffView, paint: Paint): string[] {
  const lines: string[] = [];
  if (diff.resources.length === 0) lines.push('  no resource changes');
  for (const r of diff.resources) {
    const mark =
      r.status === 'added'
        ? paint(green, '+')
        : r.status === 'removed'
          ? paint(red, '-')
          : paint(yellow, '~');
    const more = r.entryCount > r.entries.length ? `, … ${r.entryCount - r.entries.length} more` : '';
    lines.push(
      `${mark} ${r.status.padEnd(7)} ${r.type} ${r.id}  (${r.entryCount} ${r.entryCount === 1 ? 'entry' : 'entries'}: ${r.entries.join(', ')}${more})`,
    );
    for (const f of r.fields) {
      lines.push(`    ${f.field}`);
      if (f.before !== undefined) lines.push(`      ${paint(red, `- ${f.before}`)}`);
      if (f.after !== undefined) lines.push(`      ${paint(green, `+ ${f.after}`)}`);
    }
    if (r.fieldsOmitted > 0) lines.push(`    … ${plural(r.fieldsOmitted, 'more field')} (truncated)`);
  }
  if (diff.resourcesOmitted > 0)
    lines.push(`… ${plural(diff.resourcesOmitted, 'more resource change')} (truncated)`);
  return lines;
}

export function printFieldDiff(ctx: CommandContext, diff: FieldDiffView): void {
  ctx.io.out(`${renderFieldDiff(diff, painter()).join('\n')}\n`);
}

export function versionArg(input: CommandInput): number {
  const [text = ''] = input.args;
  if (!/^[1-9]\d{0,9}$/.test(text))
    throw usageError(`VERSION must be a positive whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function fetchDiff(ctx: CommandContext, version: number, against?: number): Promise<VersionDiffView> {
  const query = against === undefined ? '' : `?against=${against}`;
  return ctx.client.call<VersionDiffView>('GET', `/api/v1/config/versions/${version}/diff${query}`);
}

async function rollback(ctx: CommandContext, input: CommandInput): Promise<void> {
  const version = versionArg(input);
  const status = await ctx.client.call<{ active: { version: number } | null }>(
    'GET',
    '/api/v1/config/status',
  );
  const active = status.active?.version;
  const preview = await fetchDiff(ctx, version, active);
  if (input.has('dry-run')) {
    if (ctx.json) return printJson(ctx.io, preview);
    ctx.io.out(
      `Dry run: rolling back to version ${version} (from active version ${active ?? 'none'}) would change ` +
        `${preview.impact.envoysChanging} of ${plural(preview.impact.envoysTotal, 'envoy')}; nothing was changed.\n`,
    );
    printFieldDiff(ctx, preview.impact.fields);
    return;
  }
  if (!ctx.json) {
    ctx.io.out(
      `Rolling back to version ${version} changes ${preview.impact.envoysChanging} of ${plural(preview.impact.envoysTotal, 'envoy')}:\n`,
    );
    printFieldDiff(ctx, preview.impact.fields);
  }
  await confirmOrRefuse(
    ctx.io,
    input,
    `Serve the configuration of version ${version} to the fleet now, as a new version?`,
    '"vigocli config rollback"',
  );
  const result = await ctx.client.call<{ version: number; restored: number }>(
    'POST',
    '/api/v1/config/rollback',
    {
      version,
      message: input.value('message'),
    },
  );
  if (ctx.json) return printJson(ctx.io, result);
  ctx.io.out(
    `Rolled back: version ${result.version} now serves the configuration of version ${result.restored}.\n`,
  );
}

export const rollbackCommand: CommandSpec = {
  path: ['config', 'rollback'],
  summary: "Serve an earlier version's configuration again (as a new version), after showing what changes",
  args: [{ name: 'VERSION', doc: 'a config version number, as "vigocli config history" shows it' }],
  flags: [
    { name: 'message', value: 'TEXT', doc: 'why, recorded in history and the audit log' },
    { name: 'dry-run', doc: 'show the field-level diff and the envoys that would change; change nothing' },
    { name: 'yes', doc: 'do not ask for confirmation (required when stdin is not a terminal)' },
  ],
  run: rollback,
};
