/**
 * mounts [{mountpoint, device, fstype, size_mb, used_mb}] for real filesystems, and
 * host_self {fs_root_pct} (Vigo's trait path for the root filesystem's use in percent).
 * Volatile: usage changes all the time, so used_mb and host_self stay out of the traits hash.
 */
import { stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToMb, readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

/** Kernel and memory filesystems: many, noisy and not what an operator means by "disk". */
const virtualTypes = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'ramfs',
  'rootfs',
  'cgroup',
  'cgroup2',
  'securityfs',
  'debugfs',
  'tracefs',
  'pstore',
  'bpf',
  'mqueue',
  'hugetlbfs',
  'configfs',
  'fusectl',
  'autofs',
  'binfmt_misc',
  'rpc_pipefs',
  'nsfs',
  'efivarfs',
  'selinuxfs',
  'squashfs',
  'nfsd',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
]);

/**
 * statfs on a dead network mount blocks a libuv pool thread for good; a few such runs would stall
 * every file operation of the agent. Their sizes are therefore not read (null).
 */
const networkTypes = /^(nfs|nfs4|cifs|smb3|smbfs|ceph|glusterfs|9p|afs|lustre|fuse\..*)$/;

export interface MountEntry {
  readonly device: string;
  readonly mountpoint: string;
  readonly fstype: string;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Real filesystems from /proc/mounts; for a mountpoint mounted over, the last (visible) one. */
export function parseMounts(text: string): MountEntry[] {
  const byMountpoint = new Map<string, MountEntry>();
  for (const line of text.split('\n')) {
    const [device, mountpoint, fstype] = line.trim().split(/\s+/);
    if (device === undefined || mountpoint === undefined || fstype === undefined) continue;
    const entry = {
      device: unescapeMountField(device),
      mountpoint: unescapeMountField(mountpoint),
      fstype,
    };
    if (virtualTypes.has(fstype) && entry.mountpoint !== '/') continue;
    byMountpoint.delete(entry.mountpoint);
    byMountpoint.set(entry.mountpoint, entry);
  }
  return [...byMountpoint.values()].sort((a, b) => (a.mountpoint < b.mountpoint ? -1 : 1));
}

interface Usage {
  sizeMb: number;
  usedMb: number;
  usedPct: number;
}

/** Containers bind-mount single files (/etc/hosts, /etc/resolv.conf); those are not filesystems. */
async function isFileMount(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function usage(path: string): Promise<Usage | null> {
  try {
    const s = await statfs(path);
    const usedBlocks = s.blocks - s.bfree;
    // Like df: the share of what unprivileged users can use, rounded up.
    const usable = usedBlocks + s.bavail;
    return {
      sizeMb: bytesToMb(s.blocks * s.bsize),
      usedMb: bytesToMb(usedBlocks * s.bsize),
      usedPct: usable === 0 ? 0 : Math.ceil((usedBlocks * 100) / usable),
    };
  } catch {
    return null;
  }
}

export const mountsCollector: TraitCollector = {
  name: 'mountpoints',
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const listed = parseMounts(await readTextRequired(join(env.procRoot, 'mounts'), 'the mount table'));
    const local = (e: MountEntry): boolean => !networkTypes.test(e.fstype);
    const fileMounts = await Promise.all(
      listed.map(async (e) => local(e) && (await isFileMount(join(env.rootDir, e.mountpoint)))),
    );
    const entries = listed.filter((_e, i) => !fileMounts[i]);
    const usages = await Promise.all(
      entries.map(async (e) => (local(e) ? usage(join(env.rootDir, e.mountpoint)) : null)),
    );
    const mounts = entries.map((e, i) => ({
      mountpoint: e.mountpoint,
      device: e.device,
      fstype: e.fstype,
      size_mb: usages[i]?.sizeMb ?? null,
      used_mb: usages[i]?.usedMb ?? null,
    }));
    const rootIndex = entries.findIndex((e) => e.mountpoint === '/');
    const rootUsage = rootIndex < 0 ? null : usages[rootIndex];
    return { mounts, host_self: { fs_root_pct: rootUsage?.usedPct ?? null } };
  },
};
