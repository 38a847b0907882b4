/**
 * `vigocli backup create`: a backup of the running server (admin only, audited), streamed over the API
 * into a local file (0600). With --recipient or --passphrase-file the archive is age-encrypted here, on
 * its way to the disk, so the passphrase never leaves this machine. Restore with `vigosrv restore`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupKey } from '../../server/backup/encryption.ts';
import { encryptStream, isAgeRecipient, parsePassphraseFile } from '../../server/backup/encryption.ts';
import { backupFileName } from '../../server/backup/write-archive.ts';
import type { CommandContext, CommandInput, CommandSpec } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { formatBytes } from './db.ts';

interface BackupSummary {
  createdAt: string;
  serverVersion: string;
  configVersion: number | null;
  schemaVersion: number;
  members: number;
  bytes: number;
  ms: number;
}

function keyFrom(input: CommandInput): BackupKey | undefined {
  const recipient = input.value('recipient');
  const passphraseFile = input.value('passphrase-file');
  if (recipient !== undefined && passphraseFile !== undefined)
    throw usageError('give --recipient or --passphrase-file, not both');
  if (recipient !== undefined) {
    if (!isAgeRecipient(recipient))
      throw usageError(`--recipient ${JSON.stringify(recipient)} is not an age X25519 recipient (age1…)`);
    return { kind: 'recipient', recipient };
  }
  if (passphraseFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(passphraseFile, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --passphrase-file: ${(err as Error).message}`);
    }
    try {
      return { kind: 'passphrase', passphrase: parsePassphraseFile(text) };
    } catch (err) {
      throw usageError((err as Error).message);
    }
  }
  return undefined;
}

function defaultOutput(encrypted: boolean): string {
  return backupFileName(new Date(), encrypted);
}

function parseSummary(header: string | string[] | undefined): BackupSummary | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return JSON.parse(header) as BackupSummary;
  } catch {
    return undefined;
  }
}

async function create(ctx: CommandContext, input: CommandInput): Promise<void> {
  const key = keyFrom(input);
  const output = path.resolve(input.value('output') ?? defaultOutput(key !== undefined));
  if (fs.existsSync(output)) {
    throw new CliError(cliExitCodes.error, 'cli.output_exists', `${output} exists; name another --output`);
  }
  const partial = `${output}.partial`;
  if (!ctx.json) ctx.io.err('The server is making a consistent snapshot; large databases take a while...\n');
  let summary: BackupSummary | undefined;
  try {
    await ctx.client.download({
      path: '/api/v1/backups',
      idleTimeoutMs: 30 * 60_000,
      consume: async (body, headers) => {
        summary = parseSummary(headers['x-vigo-backup']);
        const source = Readable.from(body);
        await pipeline(
          key === undefined ? source : await encryptStream(source, key),
          fs.createWriteStream(partial, { mode: 0o600, flags: 'wx' }),
        );
      },
    });
    fs.chmodSync(partial, 0o600);
    fs.renameSync(partial, output);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  const bytes = fs.statSync(output).size;
  const result = { file: output, bytes, encrypted: key !== undefined, ...(summary ?? {}) };
  ctx.print(result, () => {
    ctx.io.out(
      `Backup written to ${output} (${formatBytes(bytes)}${key === undefined ? '' : ', age-encrypted'}).\n` +
        (summary === undefined
          ? ''
          : `  ${summary.members} files; config version ${summary.configVersion ?? 'none'}, schema version ${summary.schemaVersion}; server ${summary.serverVersion} at ${summary.createdAt}\n`),
    );
    if (key === undefined) {
      ctx.io.err(
        'Not encrypted: it holds the CA key, the bundle-signing key and the secrets vault. Keep it as private as the data dir.\n',
      );
    }
  });
}

export const backupCommands: readonly CommandSpec[] = [
  {
    path: ['backup', 'create'],
    summary: 'Back up the running server into a local file (database snapshot, tls/, secrets/, stacks)',
    details:
      'Restore it, with the server stopped, with "vigosrv restore FILE --data-dir DIR". Without --recipient or ' +
      '--passphrase-file the archive is not encrypted and holds private keys and secrets.',
    flags: [
      { name: 'output', value: 'FILE', doc: 'where to write it (default ./vigo-backup-<time>.tar.gz[.age])' },
      { name: 'recipient', value: 'AGE_PUBKEY', doc: 'encrypt to this age X25519 recipient (age1…)' },
      {
        name: 'passphrase-file',
        value: 'FILE',
        doc: 'encrypt with the passphrase on the first line of FILE (age scrypt)',
      },
    ],
    run: create,
  },
];
