/**
 * How a command's data is printed: `-o table` (the default, for people), `-o json` or `-o yaml` (for
 * scripts). `--json` is the same as `-o json`. Commands hand their data to the plumbing together with a
 * table renderer, so every command that prints data honours every format.
 */
import { serverVersion } from '../server/lifecycle/version.ts';
import { stringify } from 'yaml';
import { usageError } from './errors.ts';

export const outputFormats = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];
/** The formats scripts read: what `printJson` and structured errors use. */
export type DataFormat = Exclude<OutputFormat, 'table'>;

export function parseOutputFormat(text: string): OutputFormat {
  if ((outputFormats as readonly string[]).includes(text)) return text as OutputFormat;
  throw usageError(`-o must be one of ${outputFormats.join(', ')}, got ${JSON.stringify(text)}`);
}

/**
 * The format a command line asks for: `-o`/`--output-format` (the last one given) and `--json`. The two
 * may both appear only when they agree.
 */
export function chooseOutputFormat(given: readonly string[], json: boolean): OutputFormat {
  const formats = given.map(parseOutputFormat);
  const last = formats.at(-1);
  if (json && last !== undefined && last !== 'json')
    throw usageError(`--json asks for -o json, but -o ${last} was given too; give one of them`);
  return json ? 'json' : (last ?? 'table');
}

/** Data as text in a script format, ending with a newline. */
export function renderData(format: DataFormat, value: unknown): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  // Plain YAML 1.2 with no anchors or aliases, so any YAML reader gets exactly the JSON data model.
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** One item of a stream (`events -f`): a JSON line, or a YAML document introduced by `---`. */
export function renderStreamItem(format: DataFormat, value: unknown): string {
  return format === 'json' ? `${JSON.stringify(value)}\n` : `---\n${renderData('yaml', value)}`;
}

/** vigocli's version (the package's, as the server reads it) and the Node.js running it. */
export function versionInfo(): { vigocli: string; node: string } {
  return {
    vigocli: serverVersion,
    node: process.versions.node,
  };
}
