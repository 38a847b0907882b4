/**
 * Checkpoints on the CLI side: taking one, and verifying the server's chain against a file of them. The
 * signatures are checked here, on the operator's machine, with a key the operator pins (--key) or, failing
 * that, the key the server reports; the server only answers whether its chain still holds each (seq, hash).
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { publicKeyFromRaw } from '../../protocol/keys.ts';
import type { AuditCheckpoint } from '../../server/audit/checkpoint.ts';
import {
  checkpointKeyId,
  checkpointSignatureProblem,
  parseAuditCheckpoint,
  parseAuditCheckpoints,
} from '../../server/audit/checkpoint.ts';
import { isVigoError } from '../../server/core/index.ts';
import type { CommandContext, CommandInput } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';
import { printJson } from './input.ts';

export type VerifyResult = (
  | { ok: true; count: number; headHash?: string }
  | { ok: false; count: number; brokenSeq: number; reason: string }
) & {
  anchorsChecked?: number;
  reanchored?: { seq: number; at: string; actor: string; reason: string; problem: string }[];
  checkpointKey?: { keyId: string; publicKey: string };
};

/** Anchors per request, as the server accepts them. */
const anchorsPerRequest = 5000;
const maxFileBytes = 32 * 1024 * 1024;

function badResponse(what: string, err: unknown): CliError {
  return new CliError(
    cliExitCodes.error,
    'cli.bad_response',
    `the server sent a malformed ${what}: ${err instanceof Error ? err.message : String(err)}`,
  );
}

export function chainBroken(result: { brokenSeq: number; reason: string; count: number }): CliError {
  return new CliError(
    cliExitCodes.error,
    'cli.audit_chain_broken',
    `the audit chain is broken at seq ${result.brokenSeq}: ${result.reason} (${result.count} entries checked); ` +
      'an entry was edited, removed or inserted outside vigosrv',
  );
}

export async function takeCheckpoint(ctx: CommandContext, input: CommandInput): Promise<void> {
  const reply = await ctx.client.call<unknown>('GET', '/api/v1/audit/checkpoint');
  let checkpoint: AuditCheckpoint;
  try {
    checkpoint = parseAuditCheckpoint(reply);
  } catch (err) {
    throw badResponse('checkpoint', err);
  }
  const output = input.value('output');
  if (output === undefined) {
    if (ctx.json) return printJson(ctx.io, checkpoint);
    ctx.io.out(`${JSON.stringify(checkpoint)}\n`);
    return;
  }
  try {
    fs.appendFileSync(output, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  } catch (err) {
    throw new CliError(
      cliExitCodes.error,
      'cli.checkpoint_file',
      `cannot append the checkpoint to ${output}: ${(err as Error).message}`,
    );
  }
  if (ctx.json) return printJson(ctx.io, checkpoint);
  ctx.io.out(
    `Checkpoint of seq ${checkpoint.seq} (head ${checkpoint.headHash}) signed by key ${checkpoint.keyId} ` +
      `appended to ${output}.\n`,
  );
}

function readCheckpointFile(file: string): AuditCheckpoint[] {
  let text: string;
  try {
    if (fs.statSync(file).size > maxFileBytes)
      throw usageError(`--checkpoint ${file} is larger than ${maxFileBytes / 1024 / 1024} MiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usageError(`cannot read --checkpoint ${file}: ${(err as Error).message}`);
  }
  try {
    return parseAuditCheckpoints(text, file);
  } catch (err) {
    if (!isVigoError(err)) throw err;
    throw new CliError(cliExitCodes.error, err.code, err.message);
  }
}

/** --key FILE: an ed25519 public key as PEM, or its raw 32 bytes in base64 (as enrollment hands it out). */
function readPinnedKey(file: string): KeyObject {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw usageError(`cannot read --key ${file}: ${(err as Error).message}`);
  }
  try {
    const key = text.startsWith('-----BEGIN')
      ? createPublicKey(text)
      : publicKeyFromRaw(Buffer.from(text, 'base64'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`it holds a ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw usageError(
      `--key ${file} is not an ed25519 public key (PEM, or 32 raw bytes in base64): ${(err as Error).message}`,
    );
  }
}

function checkSignatures(checkpoints: readonly AuditCheckpoint[], key: KeyObject, file: string): void {
  checkpoints.forEach((checkpoint, index) => {
    const problem = checkpointSignatureProblem(checkpoint, key);
    if (problem === undefined) return;
    throw new CliError(
      cliExitCodes.error,
      'cli.audit_checkpoint_invalid',
      `${file}: checkpoint ${index + 1} of ${checkpoints.length} (seq ${checkpoint.seq}, taken ${checkpoint.at}) ` +
        `cannot be trusted: ${problem}`,
    );
  });
}

function anchorBatches(checkpoints: readonly AuditCheckpoint[]): string[][] {
  const anchors = [...new Set(checkpoints.map((c) => `${c.seq}:${c.headHash}`))];
  const batches: string[][] = [];
  for (let i = 0; i < anchors.length; i += anchorsPerRequest)
    batches.push(anchors.slice(i, i + anchorsPerRequest));
  return batches;
}

function serverKey(result: VerifyResult): KeyObject {
  try {
    const raw = Buffer.from(result.checkpointKey?.publicKey ?? '', 'base64');
    return publicKeyFromRaw(raw);
  } catch (err) {
    throw badResponse('checkpoint key', err);
  }
}

/**
 * Every checkpoint's signature, then one server-side walk per batch of anchors (a year of hourly checkpoints
 * is two). Any failure is exit 1 naming the checkpoint or the first broken seq.
 */
export async function verifyAgainstCheckpoints(
  ctx: CommandContext,
  input: CommandInput,
  file: string,
): Promise<void> {
  const checkpoints = readCheckpointFile(file);
  const keyFile = input.value('key');
  const pinned = keyFile === undefined ? undefined : readPinnedKey(keyFile);
  if (pinned !== undefined) checkSignatures(checkpoints, pinned, file);
  let last: VerifyResult | undefined;
  for (const anchors of anchorBatches(checkpoints)) {
    last = await ctx.client.call<VerifyResult>('POST', '/api/v1/audit/verify', { anchors });
    if (pinned === undefined) checkSignatures(checkpoints, serverKey(last), file);
    if (!last.ok) {
      if (ctx.json) printJson(ctx.io, last);
      throw chainBroken(last);
    }
  }
  if (last === undefined || !last.ok) throw badResponse('verification', 'no result');
  if (ctx.json) return printJson(ctx.io, last);
  const newest = checkpoints.reduce((a, b) => (b.seq >= a.seq ? b : a));
  const keyId = checkpointKeyId(pinned ?? serverKey(last));
  ctx.io.out(
    `Audit chain intact: ${last.count} entries verified; head ${last.headHash ?? ''}.\n` +
      `It holds all ${checkpoints.length} checkpoint(s) in ${file} (newest: seq ${newest.seq}, taken ${newest.at}); ` +
      `signatures checked with key ${keyId} (${pinned === undefined ? "the server's key; pin one with --key" : `from ${keyFile}`}).\n`,
  );
}
