/**
 * `vigocli context list|use|show|delete`: the saved contexts (server, CA copy, token) that `auth login`
 * writes, with kubectl's habits. Tokens are never printed, only whether one is saved.
 */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import type { ContextsFile, SavedContext } from '../contexts.ts';
import { caFingerprint, contextNameError, readContexts, writeContexts } from '../contexts.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { table } from '../format.ts';

interface ContextSummary {
  name: string;
  current: boolean;
  server: string;
  caFingerprint: string | null;
  token: boolean;
}

function summary(name: string, context: SavedContext, current: string | null): ContextSummary {
  return {
    name,
    current: name === current,
    server: context.server,
    caFingerprint: context.caPem === undefined ? null : caFingerprint(context.caPem),
    token: context.token !== undefined,
  };
}

function namedArgument(input: CommandInput): string {
  const [name = ''] = input.args;
  const problem = contextNameError(name);
  if (problem !== undefined) throw usageError(problem);
  return name;
}

function existing(file: string, contexts: ContextsFile, name: string): SavedContext {
  const context = contexts.contexts[name];
  if (context !== undefined) return context;
  const names = Object.keys(contexts.contexts);
  throw new CliError(
    cliExitCodes.usage,
    'cli.context_unknown',
    `no saved context ${name} in ${file}` + (names.length === 0 ? '' : `; saved: ${names.join(', ')}`),
  );
}

/** "AB:CD:…:EF": enough of a fingerprint to tell certificates apart in a table. */
const shortFingerprint = (fp: string | null): string =>
  fp === null ? '(none)' : `${fp.slice(0, 11)}…${fp.slice(-5)}`;

async function list(ctx: CommandContext): Promise<void> {
  const file = ctx.credentials.settings.contextsFile;
  const contexts = readContexts(file);
  const items = Object.entries(contexts.contexts).map(([name, c]) => summary(name, c, contexts.current));
  ctx.print({ current: contexts.current, contexts: items, file }, () => {
    if (items.length === 0) {
      ctx.io.out('No saved contexts. "vigocli auth login --server URL --ca FILE" saves one.\n');
      return;
    }
    ctx.io.out(
      table(
        ['CURRENT', 'NAME', 'SERVER', 'CA', 'TOKEN'],
        items.map((c) => [
          c.current ? '*' : '',
          c.name,
          c.server,
          shortFingerprint(c.caFingerprint),
          c.token ? 'saved' : 'none',
        ]),
      ),
    );
  });
}

async function use(ctx: CommandContext, input: CommandInput): Promise<void> {
  const name = namedArgument(input);
  const file = ctx.credentials.settings.contextsFile;
  const contexts = readContexts(file);
  existing(file, contexts, name);
  writeContexts(file, { ...contexts, current: name });
  ctx.print({ current: name }, () => ctx.io.out(`Switched to context ${name}.\n`));
}

async function remove(ctx: CommandContext, input: CommandInput): Promise<void> {
  const name = namedArgument(input);
  const file = ctx.credentials.settings.contextsFile;
  const contexts = readContexts(file);
  const context = existing(file, contexts, name);
  const { [name]: _removed, ...kept } = contexts.contexts;
  const current = contexts.current === name ? null : contexts.current;
  writeContexts(file, { current, contexts: kept });
  ctx.print({ deleted: name, current }, () => {
    ctx.io.out(`Deleted context ${name}${contexts.current === name ? '; no context is current now' : ''}.\n`);
    if (context.token !== undefined) {
      ctx.io.out(
        'Its API token still works on the server until it expires or is revoked ("vigocli tokens revoke ID").\n',
      );
    }
  });
}

const selectedByText = {
  flag: 'the --context flag',
  env: 'VIGO_CONTEXT',
  current: 'the current context',
} as const;

const sourceText = {
  flag: 'flag',
  env: 'environment',
  context: 'context',
  default: 'local server default',
} as const;

/** A named context as saved, or what this invocation would use, each setting with where it came from. */
async function show(ctx: CommandContext, input: CommandInput): Promise<void> {
  const settings = ctx.credentials.settings;
  if (input.args.length > 0) {
    const name = namedArgument(input);
    const contexts = readContexts(settings.contextsFile);
    const item = summary(name, existing(settings.contextsFile, contexts, name), contexts.current);
    ctx.print(item, () =>
      ctx.io.out(
        [
          `Context ${name}${item.current ? ' (current)' : ''}`,
          `  server: ${item.server}`,
          `  CA:     ${item.caFingerprint ?? '(none saved)'}`,
          `  token:  ${item.token ? 'saved' : 'none'}`,
          '',
        ].join('\n'),
      ),
    );
    return;
  }
  const selected = settings.selected();
  const active = settings.activeContext();
  const server = settings.server();
  const ca = settings.ca();
  let credential: { source: string; context: string | null; file: string | null } | null = null;
  try {
    const found = settings.credential();
    credential = { source: found.source, context: found.context ?? null, file: found.file ?? null };
  } catch (err) {
    if (!(err instanceof CliError && err.code === 'cli.credentials')) throw err;
  }
  const data = {
    context: active?.name ?? null,
    selectedBy: active?.selectedBy ?? null,
    ignoredContext: selected !== undefined && active === undefined ? selected.name : null,
    server: { url: server.url.href, source: server.source },
    ca: { fingerprint: caFingerprint(ca.pem), source: ca.source, file: ca.file ?? null },
    credential,
  };
  ctx.print(data, () => {
    const lines = [
      `Context: ${active === undefined ? '(none)' : `${active.name} (${selectedByText[active.selectedBy]})`}`,
      `Server:  ${server.url.href} (${sourceText[server.source]})`,
      `CA:      ${data.ca.fingerprint} (${sourceText[ca.source]}${ca.file === undefined ? '' : ` ${ca.file}`})`,
      `Token:   ${credential === null ? 'none found' : `from ${credential.source}${credential.context === null ? '' : ` ${credential.context}`}${credential.file === null ? '' : ` ${credential.file}`}`}`,
    ];
    if (data.ignoredContext !== null) {
      lines.push(
        `Note: context ${data.ignoredContext} is not used: its server is not ${server.url.href}, and a context's CA and token go only to its own server.`,
      );
    }
    ctx.io.out(`${lines.join('\n')}\n`);
  });
}

const nameArg = { name: 'NAME', doc: 'a saved context, as "vigocli context list" shows it' };

export const contextCommands: readonly CommandSpec[] = [
  {
    path: ['context', 'list'],
    summary:
      'List the saved contexts (server, CA fingerprint, whether a token is saved); * marks the current',
    run: list,
  },
  {
    path: ['context', 'use'],
    summary: 'Make a saved context the current one',
    args: [nameArg],
    run: use,
  },
  {
    path: ['context', 'show'],
    summary:
      'The server, CA and token this command line uses and where each comes from (or one saved context)',
    args: [{ ...nameArg, optional: true }],
    run: show,
  },
  {
    path: ['context', 'delete'],
    summary: 'Delete a saved context (its token stays valid on the server until revoked)',
    args: [nameArg],
    run: remove,
  },
];
