/**
 * vigocli's driver: global flags, dispatch to a command, and one place that turns any failure into
 * a message and a documented exit code.
 */
import type { FlagSpec, ParsedFlag } from './argv.ts';
import { splitArgv } from './argv.ts';
import { createApiClient } from './api-client.ts';
import type { ApiClient } from './api-client.ts';
import type { CommandContext, CommandIo, CommandSpec, CredentialAccess } from './command.ts';
import { commandHelp, commandInput, groupHelp, resolveCommand, unknownCommand } from './command.ts';
import { auditCommands } from './commands/audit.ts';
import { authCommands } from './commands/auth.ts';
import { configCommands } from './commands/config.ts';
import { dbCommands } from './commands/db.ts';
import { backupCommands } from './commands/backup.ts';
import { enrollTokenCommands } from './commands/enroll-token.ts';
import { envoyCommands } from './commands/envoys.ts';
import { eventCommands } from './commands/events.ts';
import { exportCommands } from './commands/export.ts';
import { pushCommands } from './commands/push.ts';
import { targetCommands } from './commands/targets.ts';
import { runCommands } from './commands/runs.ts';
import { complianceCommands } from './commands/compliance.ts';
import { secretCommands } from './commands/secrets.ts';
import { integrationCommands } from './commands/integrations.ts';
import { taskCommands } from './commands/task.ts';
import { workflowCommands } from './commands/workflow.ts';
import { tokenCommands } from './commands/tokens.ts';
import { traitCommands } from './commands/traits.ts';
import { webuserCommands } from './commands/webusers.ts';
import { contextCommands } from './commands/context.ts';
import { metaCommands } from './commands/meta.ts';
import { CliError, cliExitCodeDocs, cliExitCodes, usageError } from './errors.ts';
import type { CliExitCode } from './errors.ts';
import type { DataFormat } from './output.ts';
import { chooseOutputFormat, outputFormats, renderData, versionInfo } from './output.ts';
import type { Environment, GlobalOptions, Settings } from './settings.ts';
import { defaultServerUrl, resolveSettings } from './settings.ts';

export const commands: readonly CommandSpec[] = [
  ...authCommands,
  ...contextCommands,
  ...webuserCommands,
  ...tokenCommands,
  ...enrollTokenCommands,
  ...envoyCommands,
  ...pushCommands,
  ...targetCommands,
  ...traitCommands,
  ...runCommands,
  ...complianceCommands,
  ...taskCommands,
  ...workflowCommands,
  ...configCommands,
  ...secretCommands,
  ...integrationCommands,
  ...auditCommands,
  ...dbCommands,
  ...backupCommands,
  ...eventCommands,
  ...exportCommands,
  ...metaCommands(() => ({ commands, globalFlags, exitCodeFooter })),
];

export const globalFlags: readonly FlagSpec[] = [
  {
    name: 'server',
    value: 'URL',
    doc: `vigosrv's API (else $VIGO_SERVER, the context's, ${defaultServerUrl})`,
  },
  {
    name: 'ca',
    value: 'FILE',
    doc: "CA certificate to trust (else $VIGO_CA, the context's copy, <data-dir>/tls/ca.crt)",
  },
  {
    name: 'context',
    value: 'NAME',
    doc: 'use this saved context (else $VIGO_CONTEXT, the current one; see "vigocli help contexts")',
  },
  {
    name: 'data-dir',
    value: 'DIR',
    doc: "the server's data dir (default as vigosrv: $XDG_DATA_HOME/vigo or ./.vigo)",
  },
  { name: 'system', doc: 'system mode: the data dir is /srv/vigo' },
  {
    name: 'token',
    value: 'TOKEN',
    doc: "API token (else $VIGO_TOKEN, the context's, ~/.config/vigo/token, the local-admin token)",
  },
  {
    name: 'output-format',
    value: 'FORMAT',
    repeatable: true,
    doc: `-o ${outputFormats.join('|')}: how data is printed (default table)`,
  },
  { name: 'json', doc: 'the same as -o json' },
  { name: 'version', doc: "print vigocli's version and the Node.js version" },
  { name: 'help', doc: 'show help for vigocli or a command (also -h; see also "vigocli help TOPIC")' },
];

const exitCodeFooter = `Exit codes: ${Object.entries(cliExitCodes)
  .map(([name, code]) => `${code} ${name}`)
  .join(', ')} ("vigocli help exit-codes" explains them).`;

const globalNames = new Set(globalFlags.map((f) => f.name));

function knownFlags(): Map<string, FlagSpec> {
  const known = new Map<string, FlagSpec>(globalFlags.map((f) => [f.name, f]));
  for (const command of commands) for (const flag of command.flags ?? []) known.set(flag.name, flag);
  return known;
}

function lastValue(flags: readonly ParsedFlag[], name: string): string | undefined {
  return flags.filter((f) => f.name === name).at(-1)?.value;
}

function globalOptions(flags: readonly ParsedFlag[]): GlobalOptions {
  return {
    server: lastValue(flags, 'server'),
    ca: lastValue(flags, 'ca'),
    dataDir: lastValue(flags, 'data-dir'),
    system: flags.some((f) => f.name === 'system'),
    token: lastValue(flags, 'token'),
    context: lastValue(flags, 'context'),
  };
}

function report(io: CommandIo, format: DataFormat | undefined, err: unknown): CliExitCode {
  if (!(err instanceof CliError)) {
    io.err(`vigocli: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return cliExitCodes.error;
  }
  if (format === 'json') {
    io.err(`${JSON.stringify({ code: err.code, message: err.message, requestId: err.requestId ?? null })}\n`);
  } else if (format === 'yaml') {
    io.err(renderData('yaml', { code: err.code, message: err.message, requestId: err.requestId ?? null }));
  } else {
    const request = err.requestId === undefined ? '' : ` (request id ${err.requestId})`;
    io.err(`vigocli: ${err.code}: ${err.message}${request}\n`);
    if (err.exitCode === cliExitCodes.usage && !err.message.includes('--help')) {
      io.err('Run "vigocli --help" for usage.\n');
    }
  }
  return err.exitCode;
}

async function dispatch(
  argv: readonly string[],
  baseIo: CommandIo,
  environment: Environment,
  format: { value: DataFormat | undefined },
): Promise<CliExitCode> {
  const { words, flags } = splitArgv(argv, knownFlags());
  const output = chooseOutputFormat(
    flags.filter((f) => f.name === 'output-format').map((f) => f.value ?? ''),
    flags.some((f) => f.name === 'json'),
  );
  format.value = output === 'table' ? undefined : output;
  const io: CommandIo = {
    out: (text) => baseIo.out(text),
    err: (text) => baseIo.err(text),
    dataFormat: format.value,
  };
  const wantsHelp = flags.some((f) => f.name === 'help');
  if (flags.some((f) => f.name === 'version') && !wantsHelp) {
    if (words.length > 0) throw usageError('--version goes alone: vigocli --version [-o json|yaml]');
    const version = versionInfo();
    if (format.value !== undefined) io.out(renderData(format.value, version));
    else io.out(`vigocli ${version.vigocli} (Node.js ${version.node})\n`);
    return cliExitCodes.ok;
  }
  const resolved = resolveCommand(commands, words);
  const command = resolved.command;
  if (command === undefined) {
    const help = groupHelp(commands, resolved.path, globalFlags, exitCodeFooter);
    if (wantsHelp && resolved.rest.length === 0) {
      io.out(help);
      return cliExitCodes.ok;
    }
    // Bare "vigocli" (or a bare group) most likely wants the overview; a typo wants only the hint.
    if (words.length === resolved.path.length) io.err(help);
    throw unknownCommand(commands, resolved);
  }
  if (wantsHelp) {
    io.out(commandHelp(command, globalFlags));
    return cliExitCodes.ok;
  }
  const input = commandInput(
    command,
    resolved.rest,
    flags.filter((f) => !globalNames.has(f.name)),
  );
  const settings = resolveSettings(globalOptions(flags), environment);
  // The server, CA and token are worked out when a request needs them: `context list` with a broken
  // data directory, or `help`, never looks for them.
  const clientWith = (token: () => string | undefined, from: Settings = settings): ApiClient =>
    createApiClient({ baseUrl: from.server().url, caPem: () => from.ca().pem, token });
  let client: ApiClient | undefined;
  const credentials: CredentialAccess = {
    userTokenFile: settings.userTokenFile,
    settings,
    resolve: () => settings.credential(),
    clientWith: (token, from) => clientWith(() => token, from),
  };
  const print = (data: unknown, human: () => void): void => {
    if (format.value === undefined) human();
    else io.out(renderData(format.value, data));
  };
  // The server, CA and token are worked out when a command first talks to the server: `help`,
  // `completion` and `context list` work whatever the connection settings say.
  const ctx: CommandContext = {
    io,
    output,
    json: format.value !== undefined,
    print,
    credentials,
    get client(): ApiClient {
      client ??= clientWith(() => settings.credential().token);
      return client;
    },
  };
  await command.run(ctx, input);
  return cliExitCodes.ok;
}

/** Runs one vigocli invocation and returns its exit code; never throws. */
export async function runCli(
  argv: readonly string[],
  io: CommandIo,
  environment: Environment,
): Promise<CliExitCode> {
  const format: { value: DataFormat | undefined } = { value: undefined };
  try {
    return await dispatch(argv, io, environment, format);
  } catch (err) {
    return report(io, format.value, err);
  }
}

export { cliExitCodeDocs };
