/**
 * `gem`: a Ruby gem installed with one Ruby's `gem` program (`gem`, default the one on PATH; name
 * /opt/ruby-3.3/bin/gem for another Ruby) into its default location or into `install_dir` (GEM_HOME
 * for that directory). A pinned `version` is satisfied when that version is among the installed ones;
 * `state: absent` removes every installed version.
 */
import path from 'node:path';
import { fail, optionalScalar, optionalString } from './fs-util.ts';
import { createLangPackageExecutor, type LangProvider } from './lang-package.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { mustRun, timeoutMsParam, toolEnv } from './xplat-util.ts';

/** Versions from `gem list --exact` output: "rake (13.1.0, default: 13.0.6)". */
export function parseGemList(stdout: string, name: string): string[] {
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) \((.*)\)$/.exec(line.trim());
    if (m?.[1] !== name) continue;
    return (m[2] ?? '')
      .split(',')
      .map(
        (v) =>
          v
            .trim()
            .replace(/^default: /, '')
            .split(' ')[0] ?? '',
      )
      .filter((v) => v !== '');
  }
  return [];
}

function gemProvider(
  ctx: ExecutorContext,
  gem: string,
  installDir: string | undefined,
  timeoutMs: number,
  wanted: string | undefined,
): LangProvider {
  const env = toolEnv(installDir !== undefined ? { GEM_HOME: installDir, GEM_PATH: installDir } : {});
  const dirArgs = installDir !== undefined ? ['--install-dir', installDir] : [];
  const where = installDir !== undefined ? `in ${installDir}` : `for ${gem}`;
  return {
    where,
    installed: async (name) => {
      const r = await mustRun(ctx, `gem ${name} ${where}`, gem, ['list', '--local', '--exact', '--', name], {
        env,
        timeoutMs: 60_000,
      });
      const versions = parseGemList(r.stdout, name);
      if (wanted !== undefined && versions.includes(wanted)) return wanted;
      return versions[0];
    },
    install: async (spec) => {
      const what = spec.source ?? spec.name;
      const local = spec.source !== undefined && path.isAbsolute(spec.source) ? ['--local'] : [];
      const version =
        spec.version !== undefined && spec.source === undefined ? ['--version', spec.version] : [];
      const args = ['install', '--no-document', ...local, ...dirArgs, ...version, '--', what];
      await mustRun(ctx, `gem ${spec.name} ${where}`, gem, args, { env, timeoutMs });
    },
    remove: async (name) => {
      const args = ['uninstall', '--all', '--executables', '--ignore-dependencies', ...dirArgs, '--', name];
      await mustRun(ctx, `gem ${name} ${where}`, gem, args, { env, timeoutMs });
    },
  };
}

export const gemExecutor: Executor = createLangPackageExecutor({
  type: 'gem',
  namePattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  provider: async (params, ctx) => {
    const gem = optionalString(params, 'gem') ?? 'gem';
    if (gem.startsWith('-') || (gem.includes('/') && !path.isAbsolute(gem))) {
      fail(`gem must be a program name or an absolute path, got "${gem}"`);
    }
    const installDir = optionalString(params, 'install_dir');
    if (installDir !== undefined && !path.isAbsolute(installDir))
      fail(`install_dir must be absolute, got "${installDir}"`);
    const version = optionalScalar(params, 'version');
    return gemProvider(ctx, gem, installDir, timeoutMsParam(params), version);
  },
});
