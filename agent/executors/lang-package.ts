/**
 * The flow `npm`, `pip` and `gem` share: read the installed version, compare it with what the resource
 * asks for, install or remove only on drift, and read the version again to verify. Each language's
 * tool sits behind a LangProvider; the provider decides where packages live (an interpreter, a prefix,
 * an install dir).
 *
 * `source` installs from a local file or a URL the tool understands (a tarball, a wheel, a .gem) rather
 * than from the registry; the installed package must then carry `package`'s name, and `version`, when
 * given, is checked against what the file installed.
 */
import path from 'node:path';
import {
  fail,
  guardApply,
  optionalScalar,
  optionalString,
  requiredString,
  result,
  stateParam,
} from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { redactUrl } from './xplat-util.ts';

type Params = Readonly<Record<string, unknown>>;

export interface LangPackageSpec {
  readonly name: string;
  readonly version?: string;
  readonly source?: string;
}

export interface LangProvider {
  /** Where the package goes, for messages: "in /opt/tools", "for /usr/bin/python3". */
  readonly where: string;
  /** The installed version, or undefined when the package is not installed there. */
  installed(name: string): Promise<string | undefined>;
  install(spec: LangPackageSpec): Promise<void>;
  remove(name: string): Promise<void>;
}

export interface LangPackageType {
  readonly type: string;
  /** What a valid package name looks like in this ecosystem. */
  readonly namePattern: RegExp;
  provider(params: Params, ctx: ExecutorContext): Promise<LangProvider>;
}

const versionPattern = /^[A-Za-z0-9][A-Za-z0-9.+_~-]*$/;

function readSpec(params: Params, t: LangPackageType): LangPackageSpec {
  const name = requiredString(params, 'package');
  if (!t.namePattern.test(name)) fail(`package "${name}" is not a valid ${t.type} package name`);
  const version = optionalScalar(params, 'version');
  if (version !== undefined && !versionPattern.test(version)) {
    fail(`version "${version}" is not a version number such as 1.2.3`);
  }
  const source = optionalString(params, 'source');
  if (source !== undefined && !path.isAbsolute(source) && !/^https?:\/\//.test(source)) {
    fail(`source must be an absolute path or an http(s) URL, got "${redactUrl(source)}"`);
  }
  return { name, version, source };
}

export function createLangPackageExecutor(t: LangPackageType): Executor {
  return {
    type: t.type,
    apply: (params, ctx) =>
      guardApply(async () => {
        const spec = readSpec(params, t);
        const present = stateParam(params) === 'present';
        const p = await t.provider(params, ctx);
        const subject = `${t.type} package ${spec.name} ${p.where}`;
        const now = await p.installed(spec.name);
        if (!present) {
          if (now === undefined) return result('none', `${subject} is not installed`);
          if (ctx.dryRun) return result('deleted', `would remove ${subject} ${now}`);
          await p.remove(spec.name);
          const after = await p.installed(spec.name);
          if (after !== undefined) fail(`${subject}: still installed (${after}) after removing it`);
          return result('deleted', `removed ${subject} ${now}`);
        }
        if (now !== undefined && (spec.version === undefined || now === spec.version)) {
          return result('none', `${subject} ${now} is installed`);
        }
        const from = spec.source !== undefined ? ` from ${redactUrl(spec.source)}` : '';
        const target = spec.version ?? 'latest';
        const change = now === undefined ? `install ${target}` : `change ${now} -> ${target}`;
        if (ctx.dryRun)
          return result(now === undefined ? 'created' : 'updated', `would ${change} of ${subject}${from}`);
        await p.install(spec);
        const after = await p.installed(spec.name);
        if (after === undefined)
          fail(`${subject}: not installed after installing it${from} (does the file hold it?)`);
        if (spec.version !== undefined && after !== spec.version) {
          fail(`${subject}: ${after} is installed after installing${from}, not ${spec.version}`);
        }
        const done = now === undefined ? `installed ${after}` : `changed ${now} -> ${after}`;
        return result(now === undefined ? 'created' : 'updated', `${subject}: ${done}${from}`);
      }),
  };
}
