/**
 * The `package` executor: installs, upgrades or removes OS packages through apt (Debian/Ubuntu), dnf
 * (RHEL/Fedora), yum (older RHEL), zypper (SUSE), pacman (Arch) or apk (Alpine). The provider comes from
 * `provider:` or from whichever of apt-get, dnf, yum, zypper, pacman, apk is installed
 * (package-unix-providers.ts holds yum, zypper and pacman). `names: [...]` manages several packages in one transaction; `version` pins a single package.
 *
 * A pinned version matches when it equals the installed version, ignoring a Debian epoch ("1:") the pin
 * does not mention, or when it is the installed version's upstream part ("1.2.3" matches "1.2.3-4"). If
 * apt cannot find a package it refreshes its lists once (apt-get update) and retries, because a node with
 * stale or missing lists is the usual cause.
 */
import type { CommandRunner, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { findExecutable, tailLines } from './exec.ts';
import { createPacmanProvider, createYumProvider, createZypperProvider } from './package-unix-providers.ts';

export type PackageProviderName = 'apt' | 'dnf' | 'apk' | 'yum' | 'zypper' | 'pacman';

export interface InstalledPackage {
  readonly installed: boolean;
  readonly version?: string;
}

export interface PackageSpec {
  readonly name: string;
  readonly version?: string;
}

/** One package manager; every method throws an Error saying what failed. */
export interface PackageProvider {
  readonly name: PackageProviderName;
  query(name: string): Promise<InstalledPackage>;
  /** True when the repositories offer a newer version than the installed one. */
  outdated(name: string): Promise<boolean>;
  install(specs: readonly PackageSpec[]): Promise<void>;
  upgrade(names: readonly string[]): Promise<void>;
  remove(names: readonly string[]): Promise<void>;
}

const packageNamePattern = /^[A-Za-z0-9][A-Za-z0-9+._:@-]*$/;
const versionPattern = /^[A-Za-z0-9][A-Za-z0-9.+~:_*-]*$/;

function processEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
  );
}

async function mustRun(
  run: CommandRunner,
  file: string,
  args: readonly string[],
  env?: Record<string, string>,
): Promise<string> {
  const r = await run(file, args, env ? { env } : undefined);
  if (r.exitCode !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr || r.stdout, 5)}`,
    );
  }
  return r.stdout;
}

const aptStaleLists =
  /Unable to locate package|has no installation candidate|Failed to fetch|404\s+Not Found/i;

export function createAptProvider(run: CommandRunner): PackageProvider {
  const env = { ...processEnv(), DEBIAN_FRONTEND: 'noninteractive' };
  // Keep the admin's edited config files on upgrade instead of stopping at dpkg's question.
  const dpkgOpts = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  const aptGet = async (args: string[]): Promise<void> => {
    const r = await run('apt-get', args, { env });
    if (r.exitCode === 0) return;
    if (aptStaleLists.test(r.stderr + r.stdout)) {
      await mustRun(run, 'apt-get', ['update', '-q'], env);
      await mustRun(run, 'apt-get', args, env);
      return;
    }
    throw new Error(
      `apt-get ${args.join(' ')} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr || r.stdout, 5)}`,
    );
  };
  return {
    name: 'apt',
    async query(name) {
      const r = await run('dpkg-query', ['-W', '-f=${Status}\t${Version}\n', name]);
      if (r.exitCode !== 0 && !/no packages found/i.test(r.stderr)) {
        throw new Error(
          `dpkg-query ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`,
        );
      }
      // Status is "want ok state"; only state "installed" counts (not config-files, half-installed…).
      for (const line of r.stdout.split('\n')) {
        const [status = '', version = ''] = line.split('\t');
        if (status.split(' ')[2] === 'installed') return { installed: true, version };
      }
      return { installed: false };
    },
    async outdated(name) {
      const out = await mustRun(run, 'apt-cache', ['policy', name]);
      const installed = /Installed:\s*(\S+)/.exec(out)?.[1];
      const candidate = /Candidate:\s*(\S+)/.exec(out)?.[1];
      return candidate !== undefined && candidate !== '(none)' && candidate !== installed;
    },
    async install(specs) {
      const pinned = specs.some((s) => s.version !== undefined);
      const args = specs.map((s) => (s.version !== undefined ? `${s.name}=${s.version}` : s.name));
      await aptGet(['install', '-y', '-q', ...dpkgOpts, ...(pinned ? ['--allow-downgrades'] : []), ...args]);
    },
    async upgrade(names) {
      await aptGet(['install', '-y', '-q', '--only-upgrade', ...dpkgOpts, ...names]);
    },
    async remove(names) {
      await aptGet(['remove', '-y', '-q', ...names]);
    },
  };
}

export function createDnfProvider(run: CommandRunner): PackageProvider {
  return {
    name: 'dnf',
    async query(name) {
      const r = await run('rpm', ['-q', '--qf', '%{VERSION}-%{RELEASE}\n', name]);
      if (r.exitCode === 0) return { installed: true, version: r.stdout.split('\n')[0] ?? '' };
      if (r.exitCode === 1) return { installed: false };
      throw new Error(`rpm -q ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`);
    },
    async outdated(name) {
      // check-update exits 100 when updates are available and 0 when there are none.
      const r = await run('dnf', ['-q', 'check-update', name]);
      if (r.exitCode === 100) return true;
      if (r.exitCode === 0) return false;
      throw new Error(
        `dnf check-update ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`,
      );
    },
    async install(specs) {
      const args = specs.map((s) => (s.version !== undefined ? `${s.name}-${s.version}` : s.name));
      await mustRun(run, 'dnf', ['install', '-y', '-q', ...args]);
    },
    async upgrade(names) {
      await mustRun(run, 'dnf', ['upgrade', '-y', '-q', ...names]);
    },
    async remove(names) {
      await mustRun(run, 'dnf', ['remove', '-y', '-q', ...names]);
    },
  };
}

export function createApkProvider(run: CommandRunner): PackageProvider {
  return {
    name: 'apk',
    async query(name) {
      const r = await run('apk', ['info', '-e', name]);
      if (r.exitCode !== 0) return { installed: false };
      // "name-1.2.3-r0 x86_64 {origin} (license) [installed]"
      const listed = await run('apk', ['list', '-I', name]);
      const token = listed.stdout
        .split('\n')
        .find((l) => l.startsWith(`${name}-`))
        ?.split(' ')[0];
      return { installed: true, version: token?.slice(name.length + 1) };
    },
    async outdated(name) {
      const out = await mustRun(run, 'apk', ['list', '-u', name]);
      return out.split('\n').some((l) => l.startsWith(`${name}-`) && l.includes('upgradable'));
    },
    async install(specs) {
      const args = specs.map((s) => (s.version !== undefined ? `${s.name}=${s.version}` : s.name));
      await mustRun(run, 'apk', ['add', '--no-progress', ...args]);
    },
    async upgrade(names) {
      await mustRun(run, 'apk', ['add', '--upgrade', '--no-progress', ...names]);
    },
    async remove(names) {
      await mustRun(run, 'apk', ['del', '--no-progress', ...names]);
    },
  };
}

const providerFactories: Record<PackageProviderName, (run: CommandRunner) => PackageProvider> = {
  apt: createAptProvider,
  dnf: createDnfProvider,
  apk: createApkProvider,
  yum: createYumProvider,
  zypper: createZypperProvider,
  pacman: createPacmanProvider,
};

/** The package manager installed on this node: apt-get, dnf, yum, zypper, pacman, then apk. */
export function detectPackageProvider(pathEnv?: string): PackageProviderName | undefined {
  if (findExecutable('apt-get', pathEnv)) return 'apt';
  if (findExecutable('dnf', pathEnv)) return 'dnf';
  if (findExecutable('yum', pathEnv)) return 'yum';
  if (findExecutable('zypper', pathEnv)) return 'zypper';
  if (findExecutable('pacman', pathEnv)) return 'pacman';
  if (findExecutable('apk', pathEnv)) return 'apk';
  return undefined;
}

export function versionMatches(installed: string, wanted: string): boolean {
  const noEpoch = wanted.includes(':') ? installed : installed.replace(/^\d+:/, '');
  return noEpoch === wanted || noEpoch.startsWith(`${wanted}-`);
}

interface PackageParams {
  readonly names: readonly string[];
  readonly state: 'present' | 'absent' | 'latest';
  readonly version?: string;
  readonly provider?: PackageProviderName;
}

function parseParams(p: Readonly<Record<string, unknown>>): PackageParams | string {
  let names: unknown[];
  if (p.names !== undefined) names = Array.isArray(p.names) ? p.names : [p.names];
  else names = [p.package ?? p.name];
  const bad = names.find((n) => typeof n !== 'string' || !packageNamePattern.test(n));
  if (names.length === 0 || bad !== undefined) {
    return `package name ${JSON.stringify(bad) ?? '(none)'} is invalid: use letters, digits and + . _ : @ - (not starting with -)`;
  }
  const label = names.join(', ');
  const state = p.state ?? 'present';
  if (state !== 'present' && state !== 'absent' && state !== 'latest') {
    return `package ${label}: state must be present, absent or latest`;
  }
  if (p.provider !== undefined && !(typeof p.provider === 'string' && p.provider in providerFactories)) {
    return `package ${label}: provider must be one of ${Object.keys(providerFactories).join(', ')}`;
  }
  const version = p.version;
  if (version !== undefined) {
    if (typeof version !== 'string' || !versionPattern.test(version)) {
      return `package ${label}: version ${JSON.stringify(version)} is invalid`;
    }
    if (names.length > 1) {
      return `package ${label}: version can pin only one package; write one resource per package`;
    }
    if (state === 'latest') return `package ${label}: version cannot be combined with state latest`;
  }
  return {
    names: [...new Set(names as string[])],
    state,
    version,
    provider: p.provider as PackageProviderName | undefined,
  };
}

async function queryAll(
  provider: PackageProvider,
  names: readonly string[],
): Promise<Map<string, InstalledPackage>> {
  const out = new Map<string, InstalledPackage>();
  for (const n of names) out.set(n, await provider.query(n));
  return out;
}

function show(name: string, pkg: InstalledPackage | undefined): string {
  return pkg?.version ? `${name} ${pkg.version}` : name;
}

async function ensurePresent(
  p: PackageParams,
  prov: PackageProvider,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const cur = await queryAll(prov, p.names);
  const missing = p.names.filter((n) => !cur.get(n)?.installed);
  const v = p.version;
  const wrong =
    v === undefined
      ? []
      : p.names.filter((n) => cur.get(n)?.installed && !versionMatches(cur.get(n)?.version ?? '', v));
  if (missing.length === 0 && wrong.length === 0) {
    return {
      outcome: 'none',
      message: `${p.names.map((n) => show(n, cur.get(n))).join(', ')} installed (${prov.name})`,
    };
  }
  const pin = v !== undefined ? `=${v}` : '';
  const plan = [
    ...(missing.length > 0 ? [`install ${missing.map((n) => n + pin).join(', ')}`] : []),
    ...wrong.map((n) => `change ${n} ${cur.get(n)?.version ?? '?'} -> ${v}`),
  ];
  const outcome = wrong.length > 0 ? 'updated' : 'created';
  if (ctx.dryRun) return { outcome, message: `would ${plan.join('; ')} (${prov.name})` };
  await prov.install([...missing, ...wrong].map((name) => ({ name, version: v })));
  const after = await queryAll(prov, p.names);
  const left = p.names.filter(
    (n) => !after.get(n)?.installed || (v !== undefined && !versionMatches(after.get(n)?.version ?? '', v)),
  );
  if (left.length > 0) {
    return {
      outcome: 'failed',
      message: `${prov.name} reported success but ${left.map((n) => show(n, after.get(n))).join(', ')} is not as wanted`,
    };
  }
  const done = [...missing, ...wrong].map((n) => show(n, after.get(n)));
  return {
    outcome,
    message: `${outcome === 'created' ? 'installed' : 'changed'} ${done.join(', ')} (${prov.name})`,
  };
}

async function ensureLatest(
  p: PackageParams,
  prov: PackageProvider,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const cur = await queryAll(prov, p.names);
  const missing = p.names.filter((n) => !cur.get(n)?.installed);
  const stale: string[] = [];
  for (const n of p.names) if (cur.get(n)?.installed && (await prov.outdated(n))) stale.push(n);
  if (missing.length === 0 && stale.length === 0) {
    return {
      outcome: 'none',
      message: `${p.names.map((n) => show(n, cur.get(n))).join(', ')} up to date (${prov.name})`,
    };
  }
  const plan = [
    ...(missing.length > 0 ? [`install ${missing.join(', ')}`] : []),
    ...(stale.length > 0 ? [`upgrade ${stale.map((n) => show(n, cur.get(n))).join(', ')}`] : []),
  ];
  const outcome = stale.length > 0 ? 'updated' : 'created';
  if (ctx.dryRun) return { outcome, message: `would ${plan.join('; ')} (${prov.name})` };
  if (missing.length > 0) await prov.install(missing.map((name) => ({ name })));
  if (stale.length > 0) await prov.upgrade(stale);
  const after = await queryAll(prov, p.names);
  const left = p.names.filter((n) => !after.get(n)?.installed);
  for (const n of stale) if (!left.includes(n) && (await prov.outdated(n))) left.push(n);
  if (left.length > 0) {
    return {
      outcome: 'failed',
      message: `${prov.name} reported success but ${left.join(', ')} is still missing or outdated`,
    };
  }
  const done = [
    ...missing.map((n) => `installed ${show(n, after.get(n))}`),
    ...stale.map((n) => `upgraded ${n} ${cur.get(n)?.version ?? '?'} -> ${after.get(n)?.version ?? '?'}`),
  ];
  return { outcome, message: `${done.join(', ')} (${prov.name})` };
}

async function ensureAbsent(
  p: PackageParams,
  prov: PackageProvider,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const cur = await queryAll(prov, p.names);
  const present = p.names.filter((n) => cur.get(n)?.installed);
  if (present.length === 0)
    return { outcome: 'none', message: `${p.names.join(', ')} not installed (${prov.name})` };
  const list = present.map((n) => show(n, cur.get(n))).join(', ');
  if (ctx.dryRun) return { outcome: 'deleted', message: `would remove ${list} (${prov.name})` };
  await prov.remove(present);
  const after = await queryAll(prov, present);
  const left = present.filter((n) => after.get(n)?.installed);
  if (left.length > 0) {
    return {
      outcome: 'failed',
      message: `${prov.name} reported success but ${left.join(', ')} is still installed`,
    };
  }
  return { outcome: 'deleted', message: `removed ${list} (${prov.name})` };
}

export interface PackageExecutorOptions {
  /** Replaces a provider implementation (tests record the commands a provider would run). */
  readonly providers?: Partial<Record<PackageProviderName, (run: CommandRunner) => PackageProvider>>;
  /** Picks the provider when a resource names none (default: detectPackageProvider()). */
  readonly detect?: () => PackageProviderName | undefined;
}

export function createPackageExecutor(options: PackageExecutorOptions = {}): Executor {
  const factories = { ...providerFactories, ...options.providers };
  const detect = options.detect ?? ((): PackageProviderName | undefined => detectPackageProvider());
  return {
    type: 'package',
    async apply(params, ctx) {
      const p = parseParams(params);
      if (typeof p === 'string') return { outcome: 'failed', message: p };
      const name = p.provider ?? detect();
      if (!name) {
        return {
          outcome: 'failed',
          message:
            'no package manager found (looked for apt-get, dnf, yum, zypper, pacman, apk); set provider:',
        };
      }
      const prov = factories[name](ctx.run);
      try {
        if (p.state === 'absent') return await ensureAbsent(p, prov, ctx);
        return p.state === 'latest' ? await ensureLatest(p, prov, ctx) : await ensurePresent(p, prov, ctx);
      } catch (err) {
        return {
          outcome: 'failed',
          message: `package ${p.names.join(', ')}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    },
  };
}

export const packageExecutor: Executor = createPackageExecutor();
