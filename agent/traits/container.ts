/**
 * container {is_container, runtime}: whether the agent runs inside a container and which kind
 * ("kubernetes", "docker", "podman", "lxc", "containerd", "systemd-nspawn"…; null on a host).
 * Marker files first, then what PID 1's environment and cgroups reveal, as systemd-detect-virt does.
 */
import { join } from 'node:path';
import { existsPath, readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

/** Runtime named by cgroup paths (cgroup v1, or v2 with a private namespace off). Order matters: a pod's paths may also say docker. */
const cgroupHints: readonly [RegExp, string][] = [
  [/kubepods/, 'kubernetes'],
  [/libpod/, 'podman'],
  [/docker/, 'docker'],
  [/\/lxc(\.payload)?[/.]/, 'lxc'],
  [/containerd/, 'containerd'],
];

/**
 * Under cgroup v2 /proc/1/cgroup is just "0::/", but runtimes bind-mount /etc/hosts, /etc/hostname and
 * /etc/resolv.conf from their own state directories, and mountinfo shows where from. Only those three
 * mountpoints count: a container host has the same directories mounted elsewhere.
 */
const mountinfoHints: readonly [RegExp, string][] = [
  [/\/kubelet\/pods\//, 'kubernetes'],
  [/\/containers\/storage\/|\/libpod/, 'podman'],
  [/\/docker\/containers\//, 'docker'],
  [/containerd/, 'containerd'],
];
const runtimeFiles = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

export function runtimeFromMountinfo(text: string): string | null {
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields[3] === undefined || !runtimeFiles.has(fields[4] ?? '')) continue;
    const runtime = runtimeFromText(fields[3], mountinfoHints);
    if (runtime !== null) return runtime;
  }
  return null;
}

export function runtimeFromText(text: string, hints: readonly [RegExp, string][]): string | null {
  for (const [pattern, runtime] of hints) if (pattern.test(text)) return runtime;
  return null;
}

/** The `container=` variable that systemd-nspawn, lxc and podman set for PID 1. */
export function runtimeFromEnviron(environ: string): string | null {
  for (const entry of environ.split('\0')) {
    if (entry.startsWith('container=') && entry.length > 'container='.length) return entry.slice(10);
  }
  return null;
}

async function detectRuntime(env: TraitEnv): Promise<string | null> {
  const cgroup = (await readTextOrNull(join(env.procRoot, '1/cgroup'))) ?? '';
  const fromCgroup = runtimeFromText(cgroup, cgroupHints);
  if (fromCgroup === 'kubernetes') return fromCgroup;
  if (await existsPath(join(env.rootDir, 'var/run/secrets/kubernetes.io/serviceaccount')))
    return 'kubernetes';
  if (await existsPath(join(env.rootDir, '.dockerenv'))) return 'docker';
  if (await existsPath(join(env.runRoot, '.containerenv'))) return 'podman';
  const fromEnviron = runtimeFromEnviron((await readTextOrNull(join(env.procRoot, '1/environ'))) ?? '');
  if (fromEnviron !== null) return fromEnviron;
  const systemdMarker = (await readTextOrNull(join(env.runRoot, 'systemd/container')))?.trim();
  if (systemdMarker) return systemdMarker;
  if (fromCgroup !== null) return fromCgroup;
  return runtimeFromMountinfo((await readTextOrNull(join(env.procRoot, 'self/mountinfo'))) ?? '');
}

export const containerCollector: TraitCollector = {
  name: 'virtual',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const runtime = await detectRuntime(env);
    return { container: { is_container: runtime !== null, runtime } };
  },
};
