/**
 * Self-protection: policy may not manage the server's or agent's own files and units, or a
 * directory that contains them when removing or recursing. Checked on rendered params.
 */
import path from 'node:path';
import type { DiagnosticInput } from './diagnostics.ts';
import type { ResourceDef } from './model.ts';
import { managedPath, managedService } from './names.ts';

export interface GuardEnv {
  protectedPaths: string[];
  protectedServices: string[];
}

type Report = (d: DiagnosticInput) => void;

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');
}

function normalized(p: string): string {
  return p.includes('/.') || p.includes('//') ? path.posix.normalize(p) : p;
}

function unitName(s: string): string {
  return s.replace(/\.service$/, '');
}

function relation(p: string, prot: string, recursive: boolean): string {
  if (p === prot) return 'which is protected';
  if (under(p, prot)) return `which is inside the protected path ${prot}`;
  if (recursive && under(prot, p)) return `which contains the protected path ${prot}`;
  return '';
}

function guardPath(
  def: ResourceDef,
  params: Record<string, unknown>,
  env: GuardEnv,
  report: Report,
): boolean {
  const target = managedPath(def.type, params);
  if (target === undefined || !target.startsWith('/')) return true;
  const p = normalized(target);
  const recursive =
    def.type === 'directory' &&
    (params.state === 'absent' || params.purge === true || params.recurse === true);
  let ok = true;
  for (const raw of env.protectedPaths) {
    const prot = normalized(raw);
    const why = relation(p, prot, recursive);
    if (why === '') continue;
    ok = false;
    report({
      code: 'guard.protected_path',
      at: def.fieldAt.target_path ?? def.fieldAt.path ?? def.at,
      message: `${def.type} resource in configcrate ${def.crate} manages ${p}, ${why}`,
      hint: "Vigo never lets policy touch its own binaries, data or units, nor the paths server.yaml lists in publish.protected_paths; manage something else (the server's own paths cannot be unprotected)",
    });
  }
  return ok;
}

function guardService(
  def: ResourceDef,
  params: Record<string, unknown>,
  env: GuardEnv,
  report: Report,
): boolean {
  const svc = managedService(def.type, params);
  if (svc === undefined || !env.protectedServices.some((s) => unitName(s) === unitName(svc))) return true;
  report({
    code: 'guard.protected_service',
    at: def.fieldAt.service ?? def.name?.at ?? def.at,
    message: `service resource in configcrate ${def.crate} manages ${svc}, a protected Vigo unit`,
    hint: 'stopping or reconfiguring the Vigo server or agent from policy could cut the fleet off; remove this resource',
  });
  return false;
}

/** A warning only: a command mentioning a protected name is not necessarily harmful. */
function warnExec(def: ResourceDef, params: Record<string, unknown>, env: GuardEnv, report: Report): void {
  if (def.type !== 'exec' || typeof params.command !== 'string') return;
  const cmd = params.command;
  const hit = [...env.protectedServices.map(unitName), ...env.protectedPaths].find(
    (s) => s !== '' && cmd.includes(s),
  );
  if (!hit) return;
  report({
    severity: 'warning',
    code: 'guard.protected_exec',
    at: def.fieldAt.command ?? def.at,
    message: `exec command mentions ${hit}, which is protected from policy`,
    hint: 'make sure this command cannot stop or remove the Vigo agent or server',
  });
}

/** True when the resource may be applied. */
export function guard(
  def: ResourceDef,
  params: Record<string, unknown>,
  env: GuardEnv,
  report: Report,
): boolean {
  const pathOk = guardPath(def, params, env, report);
  const serviceOk = guardService(def, params, env, report);
  warnExec(def, params, env, report);
  return pathOk && serviceOk;
}
