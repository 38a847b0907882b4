/**
 * `mount`: a filesystem's line in /etc/fstab and, for state mounted, the live mount.
 *
 * States (Vigo's): mounted — fstab line and mounted (the mount point is created); present — fstab
 * line only; unmounted — unmounted, fstab left alone; absent — unmounted and the fstab line removed.
 * The fstab line for a mount point is compared field by field (device, fstype, options, dump, pass)
 * and rewritten in place, other lines untouched. A live mount of the wrong device or type is
 * unmounted and mounted again; one missing a wanted flag (ro, noexec, nosuid…) is remounted.
 * Live mounts are read from /proc/self/mounts, so the executor sees its own mount namespace.
 */
import { promises as fsp } from 'node:fs';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalScalar,
  optionalString,
  result,
  splitLines,
  type TextEdit,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { absolutePath, changed, runChecked, underRoot, type RootOptions } from './unix-util.ts';

export interface MountExecutorOptions extends RootOptions {
  /** The live mount table; /proc/self/mounts. */
  readonly mountsFile?: string;
}

type MountState = 'mounted' | 'present' | 'unmounted' | 'absent';
const states = new Set<string>(['mounted', 'present', 'unmounted', 'absent']);
const fieldPattern = /^[^\s#][^\s]{0,1023}$/;
const fstypePattern = /^[a-z0-9][a-z0-9._+-]{0,31}$/;
/** Flags the kernel shows in the live options; the others (nofail, size=…) are not compared live. */
const liveFlags = new Set(['ro', 'noexec', 'nosuid', 'nodev', 'noatime', 'nodiratime', 'sync']);

interface Spec {
  readonly path: string;
  readonly state: MountState;
  readonly device: string;
  readonly fstype: string;
  readonly options: string;
  readonly dump: string;
  readonly pass: string;
}

interface LiveChange {
  readonly message: string;
  /** A mount that was not there before (not a remount or replacement). */
  readonly fresh: boolean;
}

interface LiveMount {
  readonly device: string;
  readonly fstype: string;
  readonly options: readonly string[];
}

/** fstab and /proc/mounts escape space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function escape(field: string): string {
  return field.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function parseSpec(params: Readonly<Record<string, unknown>>): Spec {
  const p = absolutePath(params, 'target_path', 'path') ?? absolutePath(params, 'mountpoint');
  if (p === undefined) fail('path is required (the mount point), e.g. path: /mnt/data');
  const state = optionalString(params, 'state') ?? 'mounted';
  if (!states.has(state)) fail(`state must be mounted, present, unmounted or absent, got "${state}"`);
  const device = optionalString(params, 'device') ?? '';
  const fstype = optionalString(params, 'fstype') ?? '';
  const needsSource = state === 'mounted' || state === 'present';
  if (needsSource && (device === '' || fstype === ''))
    fail(`mount ${p}: device and fstype are required for state ${state}`);
  if (device !== '' && !fieldPattern.test(device)) fail(`mount ${p}: device may not contain whitespace`);
  if (fstype !== '' && !fstypePattern.test(fstype))
    fail(`mount ${p}: fstype "${fstype}" is not a filesystem type`);
  const options = optionalString(params, 'options') ?? 'defaults';
  if (!fieldPattern.test(options) || options.startsWith('-'))
    fail(`mount ${p}: options may not contain whitespace`);
  const dump = optionalScalar(params, 'dump') ?? '0';
  const pass = optionalScalar(params, 'pass') ?? '0';
  if (!/^\d$/.test(dump) || !/^\d$/.test(pass)) fail(`mount ${p}: dump and pass must be single digits`);
  return { path: p, state: state as MountState, device, fstype, options, dump, pass };
}

function fstabEdit(text: string, spec: Spec, remove: boolean): TextEdit | null {
  const lines = splitLines(text);
  const mine = lines.flatMap((l, i) => {
    const f = l.trim().split(/\s+/);
    return !l.trim().startsWith('#') && f.length >= 2 && unescape(f[1] ?? '') === spec.path ? [i] : [];
  });
  if (remove) {
    if (mine.length === 0) return null;
    for (const i of [...mine].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed the fstab line for ${spec.path}`, removes: true };
  }
  const want = [spec.device, escape(spec.path), spec.fstype, spec.options, spec.dump, spec.pass];
  const first = mine[0];
  if (first === undefined) {
    lines.push(want.join(' '));
    return { text: joinLines(lines), summary: `added the fstab line for ${spec.path}` };
  }
  const have = (lines[first] ?? '').trim().split(/\s+/);
  while (have.length < 6) have.push('0');
  if (mine.length === 1 && want.every((w, i) => have[i] === w)) return null;
  const diff = ['device', 'path', 'fstype', 'options', 'dump', 'pass'].flatMap((n, i) =>
    have[i] === want[i] ? [] : [`${n} ${have[i]} -> ${want[i]}`],
  );
  lines[first] = want.join(' ');
  for (const i of mine.slice(1).reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `fstab ${diff.join(', ') || 'duplicate lines removed'}` };
}

async function liveMount(mountsFile: string, mountPoint: string): Promise<LiveMount | undefined> {
  const text = await fsp.readFile(mountsFile, 'utf8');
  let found: LiveMount | undefined;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 4 && unescape(f[1] ?? '') === mountPoint) {
      found = { device: unescape(f[0] ?? ''), fstype: f[2] ?? '', options: (f[3] ?? '').split(',') };
    }
  }
  return found;
}

/** Whether the live source is the wanted device; sources the kernel renames (UUID=, files) count as it. */
async function sameDevice(want: string, live: string): Promise<boolean> {
  if (want === live) return true;
  if (/^[A-Z]+=/.test(want)) return true;
  if (!want.startsWith('/')) return false;
  const st = await fsp.stat(want).catch(() => null);
  if (st?.isFile()) return live.startsWith('/dev/loop');
  const [a, b] = await Promise.all([
    fsp.realpath(want).catch(() => want),
    fsp.realpath(live).catch(() => live),
  ]);
  return a === b;
}

export function createMountExecutor(options: MountExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const fstab = underRoot(root, '/etc/fstab');
  const mountsFile = options.mountsFile ?? '/proc/self/mounts';

  const ensureLive = async (spec: Spec, ctx: ExecutorContext): Promise<LiveChange | undefined> => {
    const what = `mount ${spec.path}`;
    const live = await liveMount(mountsFile, spec.path);
    const opts = spec.options.split(',');
    let action: 'mount' | 'replace' | 'remount' | undefined;
    if (!live) action = 'mount';
    else if (live.fstype !== spec.fstype || !(await sameDevice(spec.device, live.device))) action = 'replace';
    else if (
      opts.some((o) => liveFlags.has(o) && !live.options.includes(o)) ||
      (live.options.includes('ro') && !opts.includes('ro'))
    )
      action = 'remount';
    if (action === undefined) return undefined;
    const what2 =
      action === 'mount'
        ? `${spec.device} on ${spec.path}`
        : action === 'replace'
          ? `${live?.device} (${live?.fstype}) on ${spec.path} with ${spec.device} (${spec.fstype})`
          : `${spec.path} with ${spec.options}`;
    const verb = {
      mount: ['mount', 'mounted'],
      replace: ['replace', 'replaced'],
      remount: ['remount', 'remounted'],
    }[action];
    if (ctx.dryRun) return { message: `would ${verb[0]} ${what2}`, fresh: action === 'mount' };
    if (action === 'remount') {
      await runChecked(ctx, what, 'mount', ['-o', `remount,${spec.options}`, spec.path]);
    } else {
      if (action === 'replace') await runChecked(ctx, what, 'umount', [spec.path]);
      await fsp.mkdir(spec.path, { recursive: true, mode: 0o755 });
      await runChecked(ctx, what, 'mount', [
        '-t',
        spec.fstype,
        '-o',
        spec.options,
        '--',
        spec.device,
        spec.path,
      ]);
    }
    const now = await liveMount(mountsFile, spec.path);
    if (!now || now.fstype !== spec.fstype)
      fail(`${what}: after mounting, ${spec.path} is not a ${spec.fstype} mount`);
    return { message: `${verb[1]} ${what2}`, fresh: action === 'mount' };
  };

  const ensureUnmounted = async (spec: Spec, ctx: ExecutorContext): Promise<LiveChange | undefined> => {
    if (!(await liveMount(mountsFile, spec.path))) return undefined;
    if (ctx.dryRun) return { message: `would unmount ${spec.path}`, fresh: false };
    await runChecked(ctx, `mount ${spec.path}`, 'umount', [spec.path]);
    if (await liveMount(mountsFile, spec.path)) fail(`mount ${spec.path}: still mounted after umount`);
    return { message: `unmounted ${spec.path}`, fresh: false };
  };

  return {
    type: 'mount',
    apply: (params, ctx) =>
      guardApply(async () => {
        const spec = parseSpec(params);
        const parts: string[] = [];
        let fstabResult: ExecutorResult = result('none', '');
        let liveChange: LiveChange | undefined;
        if (spec.state === 'unmounted' || spec.state === 'absent')
          liveChange = await ensureUnmounted(spec, ctx);
        if (spec.state !== 'unmounted') {
          fstabResult = await applyTextEdit(ctx, {
            file: fstab,
            create: spec.state !== 'absent',
            absent: spec.state === 'absent',
            attrs: {},
            transform: (text) => fstabEdit(text, spec, spec.state === 'absent'),
          });
          if (fstabResult.outcome === 'failed') return fstabResult;
          if (changed(fstabResult)) parts.push(fstabResult.message);
        }
        if (spec.state === 'mounted') liveChange = await ensureLive(spec, ctx);
        if (liveChange !== undefined) parts.push(liveChange.message);
        if (parts.length === 0) return result('none', `${spec.path} is ${spec.state}`);
        const outcome =
          spec.state === 'absent' || spec.state === 'unmounted'
            ? 'deleted'
            : fstabResult.outcome === 'created' || liveChange?.fresh === true
              ? 'created'
              : 'updated';
        return result(outcome, parts.join('; '));
      }),
  };
}

export const mountExecutor: Executor = createMountExecutor();
