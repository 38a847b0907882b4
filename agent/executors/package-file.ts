/**
 * `nonrepo_package` and its synonym `source_package`: an OS package installed from a package file
 * (.deb with dpkg, .rpm with rpm, .apk with apk) given as a local path or an http(s) URL, not from a
 * configured repository.
 *
 * Check first: the package database says whether `package` is installed and at which version; when it
 * is (at `version`, if one is pinned) nothing is read or downloaded. Otherwise the file is fetched
 * (bounded in size and time), its SHA-256 compared with `checksum` (required for a URL: a download
 * must not be trusted blindly), its own name and version read from it and compared with the resource,
 * and only then installed; the database is queried again to verify.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './exec.ts';
import {
  fail,
  guardApply,
  optionalScalar,
  optionalString,
  requiredString,
  result,
  stateParam,
} from './fs-util.ts';
import { versionMatches } from './package.ts';
import type { CommandOptions, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  downloadFile,
  mustRun,
  oneOf,
  parseSha256,
  redactUrl,
  sha256File,
  timeoutMsParam,
  toolEnv,
} from './xplat-util.ts';

export type PackageFileFormat = 'dpkg' | 'rpm' | 'apk';

export interface PackageFileExecutorOptions {
  /** dpkg's --root (and the database under it): tests install into a temporary root. */
  readonly dpkgRoot?: string;
  /** Where downloads are kept while they are checked and installed. */
  readonly downloadDir?: string;
  /** Largest package file accepted, in bytes. */
  readonly maxBytes?: number;
}

const defaultMaxBytes = 2 * 1024 * 1024 * 1024;
const namePattern = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;
const versionPattern = /^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$/;

interface Tooling {
  query(name: string): Promise<string | undefined>;
  /** Name and version the file itself declares. */
  inspect(file: string): Promise<{ name: string; version: string }>;
  install(file: string): Promise<void>;
  remove(name: string): Promise<void>;
}

function tooling(
  format: PackageFileFormat,
  ctx: ExecutorContext,
  subject: string,
  options: CommandOptions,
  dpkgRoot: string | undefined,
): Tooling {
  const run = (file: string, args: string[]) => mustRun(ctx, subject, file, args, options);
  if (format === 'dpkg') {
    const root = dpkgRoot !== undefined ? [`--root=${dpkgRoot}`] : [];
    const admin = dpkgRoot !== undefined ? [`--admindir=${path.join(dpkgRoot, 'var/lib/dpkg')}`] : [];
    return {
      query: async (name) => {
        const r = await ctx.run(
          'dpkg-query',
          [...admin, '-W', '-f=${Status}\t${Version}', '--', name],
          options,
        );
        const [status = '', version = ''] = r.stdout.split('\t');
        return r.exitCode === 0 && status.endsWith(' installed') ? version : undefined;
      },
      inspect: async (file) => {
        const [name = '', version = ''] = (
          await run('dpkg-deb', ['--field', file, 'Package', 'Version'])
        ).stdout
          .split('\n')
          .map((l) => l.replace(/^[A-Za-z]+:\s*/, '').trim());
        return { name, version };
      },
      install: async (file) => void (await run('dpkg', [...root, '--install', '--', file])),
      remove: async (name) => void (await run('dpkg', [...root, '--remove', '--', name])),
    };
  }
  if (format === 'rpm') {
    return {
      query: async (name) => {
        const r = await ctx.run('rpm', ['-q', '--qf', '%{VERSION}-%{RELEASE}', '--', name], options);
        return r.exitCode === 0 ? r.stdout.trim() : undefined;
      },
      inspect: async (file) => {
        const out = (await run('rpm', ['-qp', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}', '--', file])).stdout;
        const [name = '', version = ''] = out.trim().split('\t');
        return { name, version };
      },
      install: async (file) => void (await run('rpm', ['-U', '--replacepkgs', '--', file])),
      remove: async (name) => void (await run('rpm', ['-e', '--', name])),
    };
  }
  return {
    query: async (name) => {
      const r = await ctx.run('apk', ['info', '-e', '-v', '--', name], options);
      const line = r.stdout.trim().split('\n')[0] ?? '';
      return r.exitCode === 0 && line.startsWith(`${name}-`) ? line.slice(name.length + 1) : undefined;
    },
    inspect: async (file) => {
      // An .apk is gzip streams forming one tar; .PKGINFO names the package.
      const info = (await run('tar', ['-xzOf', file, '.PKGINFO'])).stdout;
      const field = (k: string) => new RegExp(`^${k} = (.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
      return { name: field('pkgname'), version: field('pkgver') };
    },
    // The file's integrity is established by `checksum`; local package files carry no repository signature.
    install: async (file) => void (await run('apk', ['add', '--allow-untrusted', '--', file])),
    remove: async (name) => void (await run('apk', ['del', '--', name])),
  };
}

function formatFor(params: Readonly<Record<string, unknown>>, source: string | undefined): PackageFileFormat {
  if (params.provider !== undefined) return oneOf(params, 'provider', ['dpkg', 'rpm', 'apk'], 'dpkg');
  const ext =
    source !== undefined ? /\.(deb|rpm|apk)$/i.exec(new URL(source, 'file:///').pathname)?.[1] : undefined;
  if (ext !== undefined)
    return ({ deb: 'dpkg', rpm: 'rpm', apk: 'apk' } as const)[ext.toLowerCase() as 'deb'];
  if (findExecutable('dpkg-query')) return 'dpkg';
  if (findExecutable('rpm')) return 'rpm';
  if (findExecutable('apk')) return 'apk';
  fail('cannot tell the package format: set provider (dpkg, rpm or apk) or give a .deb/.rpm/.apk source');
}

interface FilePlan {
  readonly name: string;
  readonly source: string;
  readonly checksum: string | undefined;
  readonly version: string | undefined;
  readonly subject: string;
  readonly timeoutMs: number;
}

/** The local file to install: the path itself, or a download into a private temp dir (removed by the caller). */
async function obtain(ctx: ExecutorContext, plan: FilePlan, opts: PackageFileExecutorOptions, tmp: string) {
  if (!/^https?:\/\//i.test(plan.source)) return plan.source;
  const file = path.join(tmp, path.basename(new URL(plan.source).pathname) || 'package');
  await downloadFile(ctx, plan.subject, plan.source, file, {
    maxBytes: opts.maxBytes ?? defaultMaxBytes,
    timeoutMs: plan.timeoutMs,
  });
  return file;
}

async function installFromFile(
  ctx: ExecutorContext,
  tools: Tooling,
  plan: FilePlan,
  before: string | undefined,
  opts: PackageFileExecutorOptions,
): Promise<ExecutorResult> {
  const from = redactUrl(plan.source);
  const outcome = before === undefined ? 'created' : 'updated';
  if (ctx.dryRun) {
    const change = before === undefined ? 'install' : `replace ${before} with`;
    return result(
      outcome,
      `would ${change} ${plan.subject}${plan.version ? ` ${plan.version}` : ''} from ${from}`,
    );
  }
  const tmp = await fsp.mkdtemp(path.join(opts.downloadDir ?? os.tmpdir(), 'vigo-pkg-'));
  try {
    const file = await obtain(ctx, plan, opts, tmp);
    if (plan.checksum !== undefined) {
      const got = await sha256File(file);
      if (got !== plan.checksum) {
        fail(
          `${plan.subject}: checksum mismatch for ${from}: expected sha256 ${plan.checksum}, got ${got}; not installed`,
        );
      }
    }
    const declared = await tools.inspect(file);
    if (declared.name !== plan.name)
      fail(`${plan.subject}: ${from} holds package "${declared.name}", not "${plan.name}"`);
    if (plan.version !== undefined && !versionMatches(declared.version, plan.version)) {
      fail(`${plan.subject}: ${from} holds version ${declared.version}, not ${plan.version}`);
    }
    await tools.install(file);
    const after = await tools.query(plan.name);
    if (after !== declared.version) {
      fail(
        `${plan.subject}: after installing ${from} the package database reports ${after ?? 'not installed'}`,
      );
    }
    const what = before === undefined ? `installed ${after}` : `${before} -> ${after}`;
    return result(outcome, `${plan.subject}: ${what} from ${from}`);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

export function createPackageFileExecutor(type: string, opts: PackageFileExecutorOptions = {}): Executor {
  return {
    type,
    apply: (params, ctx) =>
      guardApply(async () => {
        const name = requiredString(params, 'package');
        if (!namePattern.test(name)) fail(`package "${name}" is not a valid package name`);
        const version = optionalScalar(params, 'version');
        if (version !== undefined && !versionPattern.test(version))
          fail(`version "${version}" is not a version`);
        const source = optionalString(params, 'source');
        const isUrl = source !== undefined && /^https?:\/\//i.test(source);
        if (source !== undefined && !isUrl && !path.isAbsolute(source)) {
          fail(`source must be an absolute path or an http(s) URL`);
        }
        const raw = optionalString(params, 'checksum');
        const checksum = raw !== undefined ? parseSha256(raw, 'checksum') : undefined;
        const format = formatFor(params, source);
        const subject = `${type} ${name} (${format})`;
        const timeoutMs = timeoutMsParam(params);
        const tools = tooling(
          format,
          ctx,
          subject,
          { env: toolEnv({ DEBIAN_FRONTEND: 'noninteractive' }), timeoutMs },
          opts.dpkgRoot,
        );
        const before = await tools.query(name);
        if (stateParam(params) === 'absent') {
          if (before === undefined) return result('none', `${subject} is not installed`);
          if (ctx.dryRun) return result('deleted', `would remove ${subject} ${before}`);
          await tools.remove(name);
          const left = await tools.query(name);
          if (left !== undefined) fail(`${subject}: still installed (${left}) after removing it`);
          return result('deleted', `removed ${subject} ${before}`);
        }
        if (before !== undefined && (version === undefined || versionMatches(before, version))) {
          return result('none', `${subject} ${before} is installed`);
        }
        if (source === undefined) fail(`${subject}: source is required to install it`);
        if (isUrl && checksum === undefined) fail(`${subject}: checksum is required when source is a URL`);
        return installFromFile(
          ctx,
          tools,
          { name, source, checksum, version, subject, timeoutMs },
          before,
          opts,
        );
      }),
  };
}

export const nonrepoPackageExecutor: Executor = createPackageFileExecutor('nonrepo_package');
export const sourcePackageExecutor: Executor = createPackageFileExecutor('source_package');
