/**
 * os {family, distro, version, codename, pretty_name} from os-release(5). `family` groups distros the
 * way `case:` keys and os_family() expect (docs/stacks.md); `distro` is the os-release ID.
 */
import { join } from 'node:path';
import { readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const familyById: Readonly<Record<string, string>> = {
  debian: 'debian',
  ubuntu: 'debian',
  raspbian: 'debian',
  rhel: 'rhel',
  centos: 'rhel',
  rocky: 'rhel',
  almalinux: 'rhel',
  fedora: 'rhel',
  ol: 'rhel',
  amzn: 'rhel',
  alpine: 'alpine',
  arch: 'arch',
  archarm: 'arch',
  suse: 'suse',
  opensuse: 'suse',
  'opensuse-leap': 'suse',
  'opensuse-tumbleweed': 'suse',
  sles: 'suse',
  sled: 'suse',
};

/** Shell-style `KEY=value` assignments with optional quotes, as os-release(5) defines them. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!match) continue;
    out.set(match[1]!, unquote(match[2]!.trim()));
  }
  return out;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  return value;
}

/** The family of an os-release ID, trying ID first, then each ID_LIKE entry; unknown IDs are their own family. */
export function osFamily(id: string, idLike: readonly string[]): string {
  for (const candidate of [id, ...idLike]) {
    const family = familyById[candidate];
    if (family !== undefined) return family;
  }
  return id;
}

async function readOsRelease(env: TraitEnv): Promise<string> {
  const etc = await readTextOrNull(join(env.etcRoot, 'os-release'));
  if (etc !== null) return etc;
  const lib = await readTextOrNull(join(env.rootDir, 'usr/lib/os-release'));
  if (lib !== null) return lib;
  throw new Error(
    `cannot tell the operating system: neither ${join(env.etcRoot, 'os-release')} nor ` +
      `${join(env.rootDir, 'usr/lib/os-release')} can be read`,
  );
}

/**
 * Debian's VERSION_ID is only the major release ("12"); /etc/debian_version has the point release
 * ("12.5"), which makes version_ge() as precise as on Rocky or Ubuntu.
 */
async function debianPointRelease(env: TraitEnv, versionId: string | null): Promise<string | null> {
  const text = (await readTextOrNull(join(env.etcRoot, 'debian_version')))?.trim() ?? '';
  if (!/^\d+(\.\d+)*$/.test(text)) return versionId;
  if (versionId !== null && text.split('.')[0] !== versionId.split('.')[0]) return versionId;
  return text;
}

export const osCollector: TraitCollector = {
  name: 'os',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const fields = parseOsRelease(await readOsRelease(env));
    const id = (fields.get('ID') ?? 'linux').toLowerCase();
    const idLike = (fields.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    let version = fields.get('VERSION_ID') || null;
    if (id === 'debian') version = await debianPointRelease(env, version);
    return {
      os: {
        family: osFamily(id, idLike),
        distro: id,
        version,
        codename: fields.get('VERSION_CODENAME') || fields.get('UBUNTU_CODENAME') || null,
        pretty_name: fields.get('PRETTY_NAME') || fields.get('NAME') || null,
      },
    };
  },
};
