/**
 * vigocli's driver: global flags, dispatch to a command, and one place that turns any failure into
 * a message and a documented exit code.
 */
import type { FlagSpec, ParsedFlag } from './argv.ts';
import { splitArgv } from './argv.ts';
import { createApiClient } from './api-client.ts';
import type { CommandIo, CommandSpec, CredentialAccess } from './command.ts';
import { commandHelp, commandInput, groupHelp, resolveCommand, unknownCommand } from './command.ts';
import { auditCommands } from './commands/audit.ts';
import { authCommands } from './commands/auth.ts';
import { configCommands } from './commands/config.ts';
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
import { CliError, cliExitCodes } from './errors.ts';
import type { CliExitCode } from './errors.ts';
import type { Environment, GlobalOptions } from './settings.ts';
import {
  defaultServerUrl,
  readCaFile,
  resolveCredential,
  resolveToken,
  serverUrl,
  userTokenFile,
} from './settings.ts';

export const commands: readonly CommandSpec[] = [
  ...authCommands,
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
  ...eventCommands,
  ...exportCommands,
];

export const globalFlags: readonly FlagSpec[] = [
  { name: 'server', value: 'URL', doc: `vigosrv's API (default ${defaultServerUrl})` },
  { name: 'ca', value: 'FILE', doc: 'CA certificate to trust (default <data-dir>/tls/ca.crt)' },
  {
    name: 'data-dir',
    value: 'DIR',
    doc: "the server's data dir (default as vigosrv: $XDG_DATA_HOME/vigo or ./.vigo)",
  },
  { name: 'system', doc: 'system mode: the data dir is /srv/vigo' },
  {
    name: 'token',
    value: 'TOKEN',
    doc: 'API token (else $VIGO_TOKEN, ~/.config/vigo/token, the local-admin token)',
  },
  { name: 'json', doc: 'print JSON for scripts instead of tables' },
  { name: 'help', doc: 'show help for vigocli or a command (also -h)' },
];

const exitCodeFooter =
  'Exit codes: 0 ok, 1 the server refused (code, message and request id are printed), 2 usage error,\n' +
  '3 cannot reach the server or TLS failed, 4 authentication failed (no credential, 401 or 403).';

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
  };
}

function report(io: CommandIo, json: boolean, err: unknown): CliExitCode {
  if (!(err instanceof CliError)) {
    io.err(`vigocli: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return cliExitCodes.error;
  }
  if (json) {
    io.err(`${JSON.stringify({ code: err.code, message: err.message, requestId: err.requestId ?? null })}\n`);
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
  io: CommandIo,
  environment: Environment,
  json: { value: boolean },
): Promise<CliExitCode> {
  const { words, flags } = splitArgv(argv, knownFlags());
  json.value = flags.some((f) => f.name === 'json');
  const wantsHelp = flags.some((f) => f.name === 'help');
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
  const options = globalOptions(flags);
  const baseUrl = serverUrl(options);
  const caPem = (): string => readCaFile(options, environment).pem;
  const client = createApiClient({ baseUrl, caPem, token: () => resolveToken(options, environment) });
  const credentials: CredentialAccess = {
    userTokenFile: userTokenFile(environment),
    resolve: () => resolveCredential(options, environment),
    clientWith: (token) => createApiClient({ baseUrl, caPem, token: () => token }),
  };
  await command.run({ io, json: json.value, client, credentials }, input);
  return cliExitCodes.ok;
}

/** Runs one vigocli invocation and returns its exit code; never throws. */
export async function runCli(
  argv: readonly string[],
  io: CommandIo,
  environment: Environment,
): Promise<CliExitCode> {
  const json = { value: false };
  try {
    return await dispatch(argv, io, environment, json);
  } catch (err) {
    return report(io, json.value, err);
  }
}
