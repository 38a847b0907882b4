/** `vigosrv --help`, generated from the registry so it lists every option exactly as loadConfig reads it. */
import { metaFlags } from './flags.ts';
import { configKeys, configRegistry, reloadableKeys } from './registry.ts';

function flagColumn(name: string, value: string | undefined): string {
  return value === undefined ? `--${name}` : `--${name} ${value}`;
}

function renderFlags(): string[] {
  const rows: [string, string][] = metaFlags.map((flag) => [
    flagColumn(flag.name, flag.value),
    flag.env === undefined ? flag.doc : `${flag.doc} [${flag.env}]`,
  ]);
  for (const key of configKeys) {
    const option = configRegistry[key];
    if (option.flag !== undefined)
      rows.push([flagColumn(option.flag, option.type === 'boolean' ? undefined : 'VALUE'), `Sets ${key}.`]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, doc]) => `  ${flag.padEnd(width)}${doc}`);
}

function renderOptions(): string[] {
  const lines: string[] = [];
  for (const key of configKeys) {
    const option = configRegistry[key];
    const setBy = [option.env, ...(option.flag === undefined ? [] : [`--${option.flag}`])].join(', ');
    const live = reloadableKeys.has(key) ? '; reloads on SIGHUP' : '';
    lines.push(`  ${key} (${option.type}) [${setBy}]`);
    lines.push(`      ${option.doc}`);
    lines.push(`      default: ${option.defaultText}${live}`);
  }
  return lines;
}

export function renderHelp(): string {
  return [
    'Usage: vigosrv [flags]',
    '       vigosrv restore FILE --data-dir DIR [--identity AGE_KEY_FILE | --passphrase-file FILE] [--force]',
    '',
    'Runs the Vigo server: agent gRPC (mTLS) and the HTTPS API, web UI and metrics. "vigosrv restore" restores',
    'a backup (vigocli backup create, backup.schedule) into the data dir of a stopped server, verified first.',
    '',
    'Flags (--flag value or --flag=value):',
    ...renderFlags(),
    '',
    'Options, as nested keys in server.yaml (later sources win: default < server.yaml < environment < flag).',
    'Durations are written like "90s", "5m", "24h"; lists in the environment are comma-separated; an empty',
    'environment variable counts as unset. Relative paths in server.yaml resolve against its directory,',
    'those from the environment or a flag against the working directory.',
    '',
    ...renderOptions(),
    '',
    'Exit codes: 0 clean stop, 78 invalid configuration; docs/exit-codes.md lists the rest.',
    '',
  ].join('\n');
}
