/**
 * `swap`: a swap file (or partition) active now and at boot.
 *
 * present — a missing swap file is created at `size` (written with zeros, not sparse: swapon refuses
 * files with holes), mode 0600, formatted with mkswap; it is switched on with swapon and listed in
 * /etc/fstab as `<path> none swap sw[,pri=N] 0 0`. A swap file of another size is switched off and
 * made again. absent — switched off, its fstab line removed, and a swap file deleted (a device is
 * left as it is). Active swap is read from /proc/swaps.
 */
import { promises as fsp } from 'node:fs';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  lstatIfExists,
  optionalScalar,
  result,
  splitLines,
  stateParam,
  type TextEdit,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { absolutePath, changed, runChecked, underRoot, type RootOptions } from './unix-util.ts';

export interface SwapExecutorOptions extends RootOptions {
  /** The active swap table; /proc/swaps. */
  readonly swapsFile?: string;
}

const units: Readonly<Record<string, number>> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const maxSwapBytes = 256 * 1024 ** 3;
const chunk = Buffer.alloc(1024 * 1024);

function parseSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{1,12})([KMG])?i?B?$/i.exec(raw.trim());
  const bytes = m ? Number(m[1]) * (units[(m[2] ?? 'M').toUpperCase()] ?? 1) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1024 ** 2 || bytes > maxSwapBytes) {
    fail(`size must be between 1M and 256G, e.g. "2G" or "512M", got ${JSON.stringify(raw)}`);
  }
  return bytes;
}

async function activeSwaps(file: string): Promise<Set<string>> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const name = line.split(/\s+/)[0];
    if (name) out.add(name.replace(/\\040/g, ' ').replace(/ \(deleted\)$/, ''));
  }
  return out;
}

function fstabEdit(text: string, swapPath: string, options: string | null): TextEdit | null {
  const lines = splitLines(text);
  const mine = lines.flatMap((l, i) => {
    const f = l.trim().split(/\s+/);
    return !l.trim().startsWith('#') && f[0] === swapPath && f[2] === 'swap' ? [i] : [];
  });
  if (options === null) {
    if (mine.length === 0) return null;
    for (const i of [...mine].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed the fstab line for ${swapPath}`, removes: true };
  }
  const want = `${swapPath} none swap ${options} 0 0`;
  const first = mine[0];
  if (first === undefined) {
    lines.push(want);
    return { text: joinLines(lines), summary: `added the fstab line for ${swapPath}` };
  }
  if (mine.length === 1 && (lines[first] ?? '').trim().split(/\s+/).join(' ') === want) return null;
  lines[first] = want;
  for (const i of mine.slice(1).reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `fstab line for ${swapPath} set to "${options}"` };
}

async function writeZeros(file: string, bytes: number, signal: AbortSignal): Promise<void> {
  const handle = await fsp.open(file, 'wx', 0o600);
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      if (signal.aborted) fail('stopped: the agent is shutting down');
      await handle.write(chunk, 0, Math.min(chunk.length, bytes - done));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createSwapExecutor(options: SwapExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const swapsFile = options.swapsFile ?? '/proc/swaps';
  const fstab = underRoot(root, '/etc/fstab');

  const editFstab = (ctx: ExecutorContext, swapPath: string, opts: string | null): Promise<ExecutorResult> =>
    applyTextEdit(ctx, {
      file: fstab,
      create: opts !== null,
      absent: opts === null,
      attrs: {},
      transform: (text) => fstabEdit(text, swapPath, opts),
    });

  return {
    type: 'swap',
    apply: (params, ctx) =>
      guardApply(async () => {
        const swapPath = absolutePath(params, 'target_path', 'path');
        if (swapPath === undefined) fail('path is required, e.g. path: /swapfile');
        if (/\s/.test(swapPath)) fail(`swap path "${swapPath}" may not contain whitespace`);
        const what = `swap ${swapPath}`;
        const size = parseSize(optionalScalar(params, 'size'));
        const rawPriority = optionalScalar(params, 'priority');
        if (rawPriority !== undefined && !/^\d{1,5}$/.test(rawPriority)) fail('priority must be 0-32767');
        const st = await lstatIfExists(swapPath);
        if (st && !st.isFile() && !st.isBlockDevice())
          fail(`${what}: ${swapPath} is neither a file nor a block device`);
        const active = (await activeSwaps(swapsFile)).has(swapPath);
        const parts: string[] = [];

        if (stateParam(params) === 'absent') {
          if (active) {
            parts.push(ctx.dryRun ? `would switch off ${swapPath}` : `switched off ${swapPath}`);
            if (!ctx.dryRun) await runChecked(ctx, what, 'swapoff', [swapPath]);
          }
          const edited = await editFstab(ctx, swapPath, null);
          if (edited.outcome === 'failed') return edited;
          if (changed(edited)) parts.push(edited.message);
          if (st?.isFile()) {
            parts.push(ctx.dryRun ? `would delete ${swapPath}` : `deleted ${swapPath}`);
            if (!ctx.dryRun) await fsp.rm(swapPath);
          }
          return parts.length === 0
            ? result('none', `${swapPath} is not swap`)
            : result('deleted', parts.join('; '));
        }

        const resize = st?.isFile() === true && size !== undefined && st.size !== size;
        if (!st && size === undefined) fail(`${what}: ${swapPath} does not exist; set size to create it`);
        let isActive = active;
        if (resize) {
          parts.push(
            `${ctx.dryRun ? 'would remake' : 'remade'} ${swapPath} at ${size} bytes (was ${st?.size})`,
          );
          if (!ctx.dryRun) {
            if (active) await runChecked(ctx, what, 'swapoff', [swapPath]);
            isActive = false;
            await fsp.rm(swapPath);
          }
        }
        if ((!st || resize) && size !== undefined) {
          if (!st) parts.push(`${ctx.dryRun ? 'would create' : 'created'} ${swapPath} (${size} bytes)`);
          if (!ctx.dryRun) {
            await writeZeros(swapPath, size, ctx.signal);
            await runChecked(ctx, what, 'mkswap', [swapPath]);
          }
        }
        if (!isActive || resize) {
          parts.push(ctx.dryRun ? `would switch on ${swapPath}` : `switched on ${swapPath}`);
          if (!ctx.dryRun) {
            await runChecked(ctx, what, 'swapon', [...(rawPriority ? ['-p', rawPriority] : []), swapPath]);
            if (!(await activeSwaps(swapsFile)).has(swapPath))
              fail(`${what}: swapon succeeded but ${swapPath} is not in ${swapsFile}`);
          }
        }
        const edited = await editFstab(ctx, swapPath, rawPriority ? `sw,pri=${rawPriority}` : 'sw');
        if (edited.outcome === 'failed') return edited;
        if (changed(edited)) parts.push(edited.message);
        if (parts.length === 0) return result('none', `${swapPath} is active swap`);
        return result(st ? 'updated' : 'created', parts.join('; '));
      }),
  };
}

export const swapExecutor: Executor = createSwapExecutor();
