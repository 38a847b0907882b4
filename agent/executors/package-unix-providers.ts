/**
 * Package providers for yum (RHEL/CentOS 7 and derivatives without dnf), zypper (SUSE) and pacman
 * (Arch). Installed packages are read from the package database (rpm -q, pacman -Q); every method
 * throws an Error naming the command that failed.
 *
 * zypper's exit codes 102 and 103 (reboot or package-manager restart advised) are successes. pacman
 * installs what the repositories hold: it cannot pin a version, so `version:` fails with a message.
 */
import { tailLines } from './exec.ts';
import type { InstalledPackage, PackageProvider } from './package.ts';
import type { CommandRunner } from './types.ts';

const commandTimeoutMs = 30 * 60_000;

async function mustRun(
  run: CommandRunner,
  file: string,
  args: readonly string[],
  okCodes: readonly number[] = [0],
): Promise<string> {
  const r = await run(file, args, { timeoutMs: commandTimeoutMs });
  if (r.exitCode === null || !okCodes.includes(r.exitCode)) {
    const why = r.timedOut ? 'timed out' : `exit ${r.exitCode ?? 'killed'}`;
    throw new Error(`${file} ${args.join(' ')} failed (${why}): ${tailLines(r.stderr || r.stdout, 5)}`);
  }
  return r.stdout;
}

async function rpmQuery(run: CommandRunner, name: string): Promise<InstalledPackage> {
  const r = await run('rpm', ['-q', '--qf', '%{VERSION}-%{RELEASE}\n', name], { timeoutMs: 60_000 });
  if (r.exitCode === 0) return { installed: true, version: r.stdout.split('\n')[0] ?? '' };
  if (r.exitCode === 1) return { installed: false };
  throw new Error(`rpm -q ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`);
}

export function createYumProvider(run: CommandRunner): PackageProvider {
  return {
    name: 'yum',
    query: (name) => rpmQuery(run, name),
    async outdated(name) {
      // check-update exits 100 when an update is available and 0 when there is none.
      const r = await run('yum', ['-q', 'check-update', name], { timeoutMs: commandTimeoutMs });
      if (r.exitCode === 100) return true;
      if (r.exitCode === 0) return false;
      throw new Error(
        `yum check-update ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`,
      );
    },
    async install(specs) {
      const args = specs.map((s) => (s.version !== undefined ? `${s.name}-${s.version}` : s.name));
      await mustRun(run, 'yum', ['install', '-y', '-q', ...args]);
    },
    async upgrade(names) {
      await mustRun(run, 'yum', ['update', '-y', '-q', ...names]);
    },
    async remove(names) {
      await mustRun(run, 'yum', ['remove', '-y', '-q', ...names]);
    },
  };
}

const zypperOk = [0, 102, 103];

export function createZypperProvider(run: CommandRunner): PackageProvider {
  const zypper = (args: string[]): Promise<string> =>
    mustRun(run, 'zypper', ['--non-interactive', '--quiet', ...args], zypperOk);
  return {
    name: 'zypper',
    query: (name) => rpmQuery(run, name),
    async outdated(name) {
      // "v | Repository | Name | Current Version | Available Version | Arch" rows.
      const out = await zypper(['list-updates']);
      return out.split('\n').some((l) => l.split('|')[2]?.trim() === name);
    },
    async install(specs) {
      const args = specs.map((s) => (s.version !== undefined ? `${s.name}=${s.version}` : s.name));
      await zypper(['install', '--no-recommends', ...args]);
    },
    async upgrade(names) {
      await zypper(['update', ...names]);
    },
    async remove(names) {
      await zypper(['remove', ...names]);
    },
  };
}

export function createPacmanProvider(run: CommandRunner): PackageProvider {
  return {
    name: 'pacman',
    async query(name) {
      const r = await run('pacman', ['-Q', '--', name], { timeoutMs: 60_000 });
      if (r.exitCode === 0) {
        const [found, version] = r.stdout.trim().split(/\s+/);
        if (found === name) return { installed: true, version };
      }
      if (r.exitCode === 1 || r.exitCode === 0) return { installed: false };
      throw new Error(`pacman -Q ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`);
    },
    async outdated(name) {
      // -Qu lists installed packages with a newer version in the synced databases; exit 1 when none.
      const r = await run('pacman', ['-Qu', '--', name], { timeoutMs: 60_000 });
      if (r.exitCode === 0) return r.stdout.trim() !== '';
      if (r.exitCode === 1) return false;
      throw new Error(
        `pacman -Qu ${name} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`,
      );
    },
    async install(specs) {
      if (specs.some((s) => s.version !== undefined)) {
        throw new Error(
          'pacman installs the repositories’ version only; remove version: or use a package file',
        );
      }
      await mustRun(run, 'pacman', ['-S', '--noconfirm', '--needed', '--', ...specs.map((s) => s.name)]);
    },
    async upgrade(names) {
      await mustRun(run, 'pacman', ['-S', '--noconfirm', '--', ...names]);
    },
    async remove(names) {
      await mustRun(run, 'pacman', ['-R', '--noconfirm', '--', ...names]);
    },
  };
}
