/**
 * `pip`: a Python package installed with `<python> -m pip` for one interpreter (`python`, default
 * python3 — a virtualenv's bin/python installs into that virtualenv) or into a `target` directory
 * (pip --target, for a PYTHONPATH of its own). Versions are read with importlib.metadata from the same
 * interpreter, so the check sees exactly what `import` would.
 */
import path from 'node:path';
import { fail, optionalString } from './fs-util.ts';
import { createLangPackageExecutor, type LangProvider } from './lang-package.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { commandFailure, mustRun, timeoutMsParam, toolEnv } from './xplat-util.ts';

const pipEnv = toolEnv({
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_NO_INPUT: '1',
  PYTHONDONTWRITEBYTECODE: '1',
});

/** Prints the installed version (or nothing); with a target dir, looks only there. */
const queryScript = `
import sys
from importlib import metadata as m
kw = {"name": sys.argv[1]}
if len(sys.argv) > 2:
    kw["path"] = [sys.argv[2]]
d = next(iter(m.distributions(**kw)), None)
print(d.version if d is not None else "")
`;

/** pip cannot uninstall from a --target directory: remove the files its RECORD lists, confined to the dir. */
const removeFromTargetScript = `
import os, sys
from importlib import metadata as m
target = os.path.realpath(sys.argv[2])
dirs = set()
for d in m.distributions(name=sys.argv[1], path=[target]):
    for f in d.files or []:
        p = os.path.realpath(str(d.locate_file(f)))
        if p.startswith(target + os.sep) and os.path.isfile(p):
            os.remove(p)
            dirs.add(os.path.dirname(p))
for dir in sorted(dirs, key=len, reverse=True):
    while dir.startswith(target + os.sep) and os.path.isdir(dir) and not os.listdir(dir):
        os.rmdir(dir)
        dir = os.path.dirname(dir)
`;

function pipProvider(
  ctx: ExecutorContext,
  python: string,
  target: string | undefined,
  timeoutMs: number,
): LangProvider {
  const options = { env: pipEnv, timeoutMs };
  const where = target !== undefined ? `in ${target}` : `for ${python}`;
  const targetArgs = target !== undefined ? [target] : [];
  return {
    where,
    installed: async (name) => {
      const args = ['-c', queryScript, name, ...targetArgs];
      const r = await ctx.run(python, args, { env: pipEnv, timeoutMs: 60_000 });
      if (r.exitCode !== 0)
        fail(commandFailure(`pip package ${name} ${where}`, python, ['-c', '<version query>', name], r));
      const v = r.stdout.trim();
      return v === '' ? undefined : v;
    },
    install: async (spec) => {
      const what = spec.source ?? (spec.version !== undefined ? `${spec.name}==${spec.version}` : spec.name);
      // --upgrade lets a --target install replace an older copy instead of warning and keeping it.
      const dest = target !== undefined ? ['--target', target, '--upgrade'] : [];
      await mustRun(
        ctx,
        `pip package ${spec.name} ${where}`,
        python,
        ['-m', 'pip', 'install', '--quiet', ...dest, '--', what],
        options,
      );
    },
    remove: async (name) => {
      if (target !== undefined) {
        await mustRun(
          ctx,
          `pip package ${name} ${where}`,
          python,
          ['-c', removeFromTargetScript, name, target],
          options,
        );
      } else {
        await mustRun(
          ctx,
          `pip package ${name} ${where}`,
          python,
          ['-m', 'pip', 'uninstall', '--yes', '--', name],
          options,
        );
      }
    },
  };
}

export const pipExecutor: Executor = createLangPackageExecutor({
  type: 'pip',
  namePattern: /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  provider: async (params, ctx) => {
    const python = optionalString(params, 'python') ?? 'python3';
    if (python.startsWith('-') || (python.includes('/') && !path.isAbsolute(python))) {
      fail(`python must be a program name or an absolute path, got "${python}"`);
    }
    const target = optionalString(params, 'target');
    if (target !== undefined && !path.isAbsolute(target)) fail(`target must be absolute, got "${target}"`);
    return pipProvider(ctx, python, target, timeoutMsParam(params));
  },
});
