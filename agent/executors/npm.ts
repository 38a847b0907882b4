/**
 * `npm`: a Node.js package installed globally (`npm install --global`) into npm's global prefix or into
 * the one `prefix` names (an application's own tools directory, e.g. /opt/tools → /opt/tools/bin).
 * The installed version is read from <prefix>/lib/node_modules/<package>/package.json, without
 * starting npm, so a run with nothing to do costs one file read.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fail, optionalString } from './fs-util.ts';
import { createLangPackageExecutor, type LangProvider } from './lang-package.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { mustRun, timeoutMsParam, toolEnv } from './xplat-util.ts';

const npmEnv = toolEnv({
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
});

async function globalPrefix(ctx: ExecutorContext): Promise<string> {
  const r = await mustRun(ctx, 'npm global prefix', 'npm', ['prefix', '--global'], {
    env: npmEnv,
    timeoutMs: 60_000,
  });
  const prefix = r.stdout.trim();
  if (!path.isAbsolute(prefix)) fail(`npm prefix --global printed "${prefix}", not an absolute path`);
  return prefix;
}

async function readVersion(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const v = (JSON.parse(text) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    fail(`${file} is not valid JSON`);
  }
}

function npmProvider(ctx: ExecutorContext, prefix: string, timeoutMs: number): LangProvider {
  const options = { env: npmEnv, timeoutMs };
  const base = ['--global', '--prefix', prefix];
  return {
    where: `in ${prefix}`,
    installed: (name) => readVersion(path.join(prefix, 'lib', 'node_modules', name, 'package.json')),
    install: async (spec) => {
      const what = spec.source ?? (spec.version !== undefined ? `${spec.name}@${spec.version}` : spec.name);
      await mustRun(ctx, `npm package ${spec.name}`, 'npm', ['install', ...base, '--', what], options);
    },
    remove: async (name) => {
      await mustRun(ctx, `npm package ${name}`, 'npm', ['uninstall', ...base, '--', name], options);
    },
  };
}

export const npmExecutor: Executor = createLangPackageExecutor({
  type: 'npm',
  namePattern: /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/,
  provider: async (params, ctx) => {
    const prefix = optionalString(params, 'prefix');
    if (prefix !== undefined && !path.isAbsolute(prefix)) fail(`prefix must be absolute, got "${prefix}"`);
    return npmProvider(ctx, prefix ?? (await globalPrefix(ctx)), timeoutMsParam(params));
  },
});
