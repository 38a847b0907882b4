/**
 * `vigocli help TOPIC`: every command and command group is a topic (its help is generated from the
 * command table), plus a few topics about vigocli as a whole. Completion offers the same list.
 */
import type { FlagSpec } from './argv.ts';
import type { CommandSpec } from './command.ts';
import { commandHelp, groupHelp } from './command.ts';
import { cliExitCodeDocs, cliExitCodes } from './errors.ts';
import { outputFormats } from './output.ts';

export interface CommandTable {
  readonly commands: readonly CommandSpec[];
  readonly globalFlags: readonly FlagSpec[];
  readonly exitCodeFooter: string;
}

interface Topic {
  readonly name: string;
  readonly summary: string;
  text(table: CommandTable): string;
}

function exitCodesText(): string {
  const rows = Object.entries(cliExitCodes).map(
    ([name, code]) => `  ${code}  ${cliExitCodeDocs[name as keyof typeof cliExitCodes]}`,
  );
  return [
    'vigocli exit codes (scripts may rely on them):',
    '',
    ...rows,
    '',
    'On failure a message goes to stderr: "vigocli: CODE: MESSAGE (request id ID)", or with -o json',
    '(-o yaml) the same as {"code", "message", "requestId"}.',
  ].join('\n');
}

const topics: readonly Topic[] = [
  {
    name: 'contexts',
    summary: 'saved servers, CA certificates and tokens; how vigocli picks them',
    text: () =>
      [
        'Contexts: named servers vigocli talks to.',
        '',
        '  vigocli auth login --server https://vigo.example.com:8443 --ca ca.crt --context prod',
        '  vigocli context list | use NAME | show [NAME] | delete NAME',
        '',
        '"auth login" (and "auth set-token") save the server URL, a copy of the CA certificate and the API',
        'token as a context and make it current. They live in $XDG_CONFIG_HOME/vigo/contexts.json (default',
        '~/.config/vigo/contexts.json), 0600 in a 0700 directory. vigocli refuses the file (exit 4) when group',
        'or others may read it, and (exit 1, code cli.context_file) when it is larger than 1 MiB, holds more',
        'than 100 contexts or is not exactly what vigocli writes.',
        '',
        'Each of server, CA and token comes from the first of:',
        '  1. the flag: --server, --ca, --token',
        '  2. the environment: VIGO_SERVER, VIGO_CA (a file), VIGO_TOKEN',
        '  3. the context named by --context NAME or VIGO_CONTEXT (an unknown name exits 2)',
        '  4. the current context',
        "  5. the local server's defaults: https://localhost:8443, <data-dir>/tls/ca.crt and the",
        '     local-admin token (found with --system or --data-dir as vigosrv finds them)',
        "A context's CA and token are used only with its own server: given --server or VIGO_SERVER naming",
        'another server, the context is left out. The token file older versions wrote',
        '(~/.config/vigo/token) is still read, after the contexts; the local-admin token is never sent to',
        'a server that comes from a context. "vigocli context show" prints what a',
        'command line would use and where each setting comes from.',
      ].join('\n'),
  },
  {
    name: 'output',
    summary: `-o ${outputFormats.join('|')}, --json, and piping`,
    text: () =>
      [
        `Output formats: -o ${outputFormats.join('|')} (also -oFORMAT, --output-format FORMAT).`,
        '',
        '  table  for people (the default): aligned columns and short sentences',
        '  json   the data the command prints, as JSON; --json is the same as -o json',
        '  yaml   the same data as YAML',
        '',
        'With json and yaml only data goes to stdout: notes and progress are left out, and errors go to',
        'stderr in the same format. A stream ("events -f") prints one JSON line, or one YAML document',
        'introduced by ---, per event. When a reader closes the pipe early (vigocli ... | head), vigocli',
        'stops quietly with exit code 0.',
      ].join('\n'),
  },
  {
    name: 'exit-codes',
    summary: 'what each exit code means',
    text: exitCodesText,
  },
  {
    name: 'targets',
    summary: 'how push, task run, traits livequery and query run select envoys',
    text: () =>
      [
        'Targets select envoys for push, task run, traits livequery, query run and workflows. Several',
        'targets are united; --where EXPR (repeatable) keeps only envoys whose traits all match.',
        '',
        '  3f2c5a0e-…            an envoy id',
        '  web-01                an exact hostname',
        "  'web-*'               a hostname glob (* any run, ? one character, [a-z] a class)",
        '  os.distro=ubuntu      a trait filter (=, !=, <, <=, >, >=)',
        '  @web-prod             a saved target group ("vigocli targets list")',
        '',
        'Revoked envoys are never selected. Targets that name nothing exit 1 with nothing done.',
      ].join('\n'),
  },
];

function groups(commands: readonly CommandSpec[]): string[][] {
  const seen = new Map<string, string[]>();
  for (const command of commands) {
    for (let depth = 1; depth < command.path.length; depth += 1) {
      const group = command.path.slice(0, depth);
      seen.set(group.join(' '), group);
    }
  }
  return [...seen.values()];
}

/** Every topic name `vigocli help` accepts: the general topics, the groups and the commands. */
export function topicNames(table: CommandTable): string[] {
  return [
    ...topics.map((t) => t.name),
    ...groups(table.commands).map((g) => g.join(' ')),
    ...table.commands.map((c) => c.path.join(' ')),
  ];
}

/** The help text of a topic, or undefined when there is no such topic. */
export function topicText(table: CommandTable, words: readonly string[]): string | undefined {
  const name = words.join(' ');
  const topic = topics.find((t) => t.name === name);
  if (topic !== undefined) return `${topic.text(table)}\n`;
  const command = table.commands.find((c) => c.path.join(' ') === name);
  if (command !== undefined) return commandHelp(command, table.globalFlags);
  if (groups(table.commands).some((g) => g.join(' ') === name))
    return groupHelp(table.commands, words, table.globalFlags, table.exitCodeFooter);
  return undefined;
}

/** `vigocli help` with no topic: the command overview and the general topics. */
export function helpOverview(table: CommandTable): string {
  const width = Math.max(...topics.map((t) => t.name.length));
  return (
    groupHelp(table.commands, [], table.globalFlags, table.exitCodeFooter) +
    '\nHelp topics ("vigocli help TOPIC"; every command and group is a topic too):\n' +
    topics.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}\n`).join('')
  );
}

export const generalTopics: readonly string[] = topics.map((t) => t.name);
