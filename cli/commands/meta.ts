/** `vigocli help [TOPIC]` and `vigocli completion SHELL`, both generated from the command table. */
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { completionScript, completionShells } from '../completion.ts';
import type { CompletionShell } from '../completion.ts';
import { usageError } from '../errors.ts';
import type { CommandTable } from '../help-topics.ts';
import { helpOverview, topicNames, topicText } from '../help-topics.ts';
import { closest } from '../argv.ts';

export function metaCommands(table: () => CommandTable): CommandSpec[] {
  const help = async (ctx: CommandContext, input: CommandInput): Promise<void> => {
    if (input.args.length === 0) {
      ctx.io.out(helpOverview(table()));
      return;
    }
    const text = topicText(table(), input.args);
    if (text === undefined) {
      const name = input.args.join(' ');
      const hint = closest(name, topicNames(table()));
      throw usageError(
        `no help topic "${name}"${hint === undefined ? '' : `; did you mean "${hint}"?`} ("vigocli help" lists them)`,
      );
    }
    ctx.io.out(text);
  };
  const completion = async (ctx: CommandContext, input: CommandInput): Promise<void> => {
    const [shell = ''] = input.args;
    if (!(completionShells as readonly string[]).includes(shell))
      throw usageError(
        `completion is generated for ${completionShells.join(', ')}, not ${JSON.stringify(shell)}`,
      );
    ctx.io.out(completionScript(shell as CompletionShell, table()));
  };
  return [
    {
      path: ['help'],
      summary: 'Help on a command, a command group, or a topic: contexts, output, exit-codes, targets',
      args: [
        {
          name: 'TOPIC',
          doc: 'a command ("envoys show"), a group ("envoys") or a topic',
          variadic: true,
          optional: true,
        },
      ],
      run: help,
    },
    {
      path: ['completion'],
      summary: `Print a shell completion script: ${completionShells.join(', ')}`,
      args: [{ name: 'SHELL', doc: completionShells.join(', ') }],
      details:
        'bash: source <(vigocli completion bash)    (or save it to /etc/bash_completion.d/vigocli)\n' +
        'zsh:  source <(vigocli completion zsh)\n' +
        'fish: vigocli completion fish | source    (or save it to ~/.config/fish/completions/vigocli.fish)',
      run: completion,
    },
  ];
}
