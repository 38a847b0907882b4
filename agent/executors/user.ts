/**
 * The `user` executor: a local account managed with useradd/usermod/userdel (never by editing /etc/passwd,
 * so shadow, gshadow and nscd stay consistent), plus two files the account owns: ~/.ssh/authorized_keys
 * (exactly the listed keys) and /etc/sudoers.d/vigo-<user> for sudo_nopasswd (see user-files.ts).
 *
 * Decisions where the spec is silent: `groups` is a minimum (the user is added to missing groups, never
 * removed from others — packages such as docker add members on their own); `manage_home` defaults to true
 * for normal users and false for system users, and a home directory is removed on deletion only when
 * `manage_home: true` is written explicitly.
 */
import { getent, lookupGroup, lookupUser, tailLines, type PasswdEntry } from './exec.ts';
import type { CommandRunner, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  applySudoers,
  applyUserFiles,
  lstatOrUndefined,
  sudoersFile,
  userFileChanges,
} from './user-files.ts';

/** Local names useradd accepts (plus a trailing $ for machine accounts); never starts with "-". */
export const accountNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

interface UserParams {
  readonly name: string;
  readonly state: 'present' | 'absent';
  readonly uid?: number;
  readonly group?: string;
  readonly groups?: readonly string[];
  readonly home?: string;
  readonly shell?: string;
  readonly comment?: string;
  readonly system: boolean;
  readonly password?: string;
  readonly authorizedKeys?: readonly string[];
  readonly sudoNopasswd?: boolean;
  readonly manageHome?: boolean;
}

// crypt(3) output: $id$…, a locked/disabled marker, or a 13-character DES hash.
const cryptHash = /^(\$[0-9a-z]+\$[^\s:]+|[!*][^\s:]*|[./0-9A-Za-z]{13})$/;

function parseParams(p: Readonly<Record<string, unknown>>): UserParams | string {
  const name = typeof p.user === 'string' ? p.user : typeof p.name === 'string' ? p.name : '';
  if (!accountNamePattern.test(name)) {
    return `user name "${name}" is not a valid account name (letters, digits, _ . -; at most 32 characters)`;
  }
  const state = p.state ?? 'present';
  if (state !== 'present' && state !== 'absent') return `user ${name}: state must be present or absent`;
  const strings = ['group', 'home', 'shell', 'comment', 'password'] as const;
  for (const k of strings) {
    if (p[k] !== undefined && typeof p[k] !== 'string') return `user ${name}: ${k} must be a string`;
    if (typeof p[k] === 'string' && /[:\n]/.test(p[k]))
      return `user ${name}: ${k} must not contain ":" or a newline`;
  }
  for (const k of ['home', 'shell'] as const) {
    if (typeof p[k] === 'string' && !p[k].startsWith('/'))
      return `user ${name}: ${k} must be an absolute path`;
  }
  if (p.uid !== undefined && !(Number.isInteger(p.uid) && (p.uid as number) >= 0)) {
    return `user ${name}: uid must be a non-negative integer`;
  }
  for (const k of ['groups', 'authorized_keys'] as const) {
    const v = p[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      return `user ${name}: ${k} must be a list of strings`;
    }
  }
  if (typeof p.password === 'string' && !cryptHash.test(p.password)) {
    return `user ${name}: password must be a crypt(3) hash such as the output of "openssl passwd -6"; plain text is refused`;
  }
  const keys = p.authorized_keys as string[] | undefined;
  if (keys?.some((k) => /[\r\n]/.test(k))) return `user ${name}: each authorized_keys entry must be one line`;
  return {
    name,
    state,
    uid: p.uid as number | undefined,
    group: p.group as string | undefined,
    groups: p.groups as string[] | undefined,
    home: p.home as string | undefined,
    shell: p.shell as string | undefined,
    comment: p.comment as string | undefined,
    system: p.system === true,
    password: p.password as string | undefined,
    authorizedKeys: keys,
    sudoNopasswd: typeof p.sudo_nopasswd === 'boolean' ? p.sudo_nopasswd : undefined,
    manageHome: typeof p.manage_home === 'boolean' ? p.manage_home : undefined,
  };
}

export interface UserExecutorOptions {
  /** Where sudo_nopasswd drop-ins go (default /etc/sudoers.d). */
  readonly sudoersDir?: string;
}

interface Resolved {
  readonly gid?: number;
  readonly groupNames: readonly string[];
}

async function resolveGroups(run: CommandRunner, u: UserParams): Promise<Resolved | string> {
  let gid: number | undefined;
  if (u.group !== undefined) {
    const g = await lookupGroup(run, u.group);
    if (!g)
      return `user ${u.name}: primary group "${u.group}" does not exist; declare it with a group resource the user depends_on`;
    gid = g.gid;
  }
  const groupNames: string[] = [];
  for (const name of u.groups ?? []) {
    const g = await lookupGroup(run, name);
    if (!g)
      return `user ${u.name}: group "${name}" does not exist; declare it with a group resource the user depends_on`;
    groupNames.push(g.name);
  }
  return { gid, groupNames };
}

async function userGroupNames(run: CommandRunner, name: string): Promise<string[]> {
  const r = await run('id', ['-Gn', name]);
  if (r.exitCode !== 0) throw new Error(`id -Gn ${name} failed: ${tailLines(r.stderr, 3)}`);
  return r.stdout.trim().split(/\s+/);
}

async function shadowHash(run: CommandRunner, name: string): Promise<string | undefined> {
  return (await getent(run, 'shadow', name))?.[1];
}

/** usermod arguments and a description of each difference between the account and `u`. */
async function accountDrift(
  run: CommandRunner,
  u: UserParams,
  cur: PasswdEntry,
  res: Resolved,
): Promise<{ args: string[]; changes: string[] }> {
  const args: string[] = [];
  const changes: string[] = [];
  if (u.uid !== undefined && u.uid !== cur.uid) {
    args.push('-u', String(u.uid));
    changes.push(`uid ${cur.uid} -> ${u.uid}`);
  }
  if (res.gid !== undefined && res.gid !== cur.gid) {
    args.push('-g', String(res.gid));
    changes.push(`primary gid ${cur.gid} -> ${res.gid}`);
  }
  if (u.home !== undefined && u.home !== cur.home) {
    args.push('-d', u.home, ...(u.manageHome === true ? ['-m'] : []));
    changes.push(`home ${cur.home} -> ${u.home}`);
  }
  if (u.shell !== undefined && u.shell !== cur.shell) {
    args.push('-s', u.shell);
    changes.push(`shell ${cur.shell} -> ${u.shell}`);
  }
  if (u.comment !== undefined && u.comment !== cur.gecos) {
    args.push('-c', u.comment);
    changes.push(`comment "${cur.gecos}" -> "${u.comment}"`);
  }
  if (u.password !== undefined && (await shadowHash(run, u.name)) !== u.password) {
    args.push('-p', u.password);
    changes.push('password changed');
  }
  if (res.groupNames.length > 0) {
    const have = new Set(await userGroupNames(run, u.name));
    const missing = res.groupNames.filter((g) => !have.has(g));
    if (missing.length > 0) {
      args.push('-a', '-G', missing.join(','));
      changes.push(`added to groups ${missing.join(', ')}`);
    }
  }
  return { args, changes };
}

async function runTool(run: CommandRunner, tool: string, args: string[]): Promise<void> {
  const r = await run(tool, args);
  if (r.exitCode !== 0) {
    throw new Error(`${tool} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr || r.stdout, 5)}`);
  }
}

function failed(message: string): ExecutorResult {
  return { outcome: 'failed', message };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function ensureAbsent(
  u: UserParams,
  ctx: ExecutorContext,
  sudoersDir: string,
): Promise<ExecutorResult> {
  const cur = await lookupUser(ctx.run, u.name);
  const sudo = sudoersFile(sudoersDir, u.name);
  const sudoExists = (await lstatOrUndefined(sudo.path)) !== undefined;
  if (!cur) {
    if (!sudoExists) return { outcome: 'none', message: `user ${u.name} is absent` };
    if (ctx.dryRun) return { outcome: 'deleted', message: `would remove ${sudo.path}` };
    await applySudoers(ctx, u.name, false, sudoersDir);
    return { outcome: 'deleted', message: `removed ${sudo.path}` };
  }
  if (cur.uid === 0) return failed(`refusing to delete user ${u.name}: it has uid 0`);
  const removeHome = u.manageHome === true;
  if (ctx.dryRun) {
    return {
      outcome: 'deleted',
      message: `would delete user ${u.name}${removeHome ? ` and ${cur.home}` : ''}`,
    };
  }
  await runTool(ctx.run, 'userdel', [...(removeHome ? ['-r'] : []), u.name]);
  await applySudoers(ctx, u.name, false, sudoersDir);
  if (await lookupUser(ctx.run, u.name))
    return failed(`userdel ${u.name} succeeded but the user still exists`);
  return { outcome: 'deleted', message: `deleted user ${u.name}${removeHome ? ` and ${cur.home}` : ''}` };
}

function useraddArgs(u: UserParams, res: Resolved): string[] {
  const args: string[] = [];
  if (u.system) args.push('-r');
  if (u.uid !== undefined) args.push('-u', String(u.uid));
  if (res.gid !== undefined) args.push('-g', String(res.gid));
  if (res.groupNames.length > 0) args.push('-G', res.groupNames.join(','));
  if (u.home !== undefined) args.push('-d', u.home);
  if (u.shell !== undefined) args.push('-s', u.shell);
  if (u.comment !== undefined) args.push('-c', u.comment);
  if (u.password !== undefined) args.push('-p', u.password);
  args.push((u.manageHome ?? !u.system) ? '-m' : '-M', u.name);
  return args;
}

async function createUser(
  u: UserParams,
  ctx: ExecutorContext,
  res: Resolved,
  sudoersDir: string,
): Promise<ExecutorResult> {
  const extras = [
    ...(u.authorizedKeys ? [`${u.authorizedKeys.length} authorized key(s)`] : []),
    ...(u.sudoNopasswd ? ['passwordless sudo'] : []),
  ];
  const suffix = extras.length > 0 ? ` with ${extras.join(' and ')}` : '';
  if (ctx.dryRun) return { outcome: 'created', message: `would create user ${u.name}${suffix}` };
  await runTool(ctx.run, 'useradd', useraddArgs(u, res));
  const acct = await lookupUser(ctx.run, u.name);
  if (!acct) return failed(`useradd ${u.name} succeeded but the user does not exist`);
  await applyUserFiles(ctx, u, acct, sudoersDir);
  const left = [
    ...(await accountDrift(ctx.run, u, acct, res)).changes,
    ...(await userFileChanges(u, acct, sudoersDir)),
  ];
  if (left.length > 0) return failed(`created user ${u.name} but it still differs: ${left.join('; ')}`);
  return { outcome: 'created', message: `created user ${u.name} (uid ${acct.uid})${suffix}` };
}

async function ensurePresent(
  u: UserParams,
  ctx: ExecutorContext,
  sudoersDir: string,
): Promise<ExecutorResult> {
  const res = await resolveGroups(ctx.run, u);
  if (typeof res === 'string') return failed(res);
  const cur = await lookupUser(ctx.run, u.name);
  if (!cur) return createUser(u, ctx, res, sudoersDir);
  const drift = await accountDrift(ctx.run, u, cur, res);
  // Files are judged against the home and ids the account will have after usermod.
  const target: PasswdEntry = {
    ...cur,
    uid: u.uid ?? cur.uid,
    gid: res.gid ?? cur.gid,
    home: u.home ?? cur.home,
  };
  const changes = [...drift.changes, ...(await userFileChanges(u, target, sudoersDir))];
  if (changes.length === 0) return { outcome: 'none', message: `user ${u.name} is up to date` };
  if (ctx.dryRun)
    return { outcome: 'updated', message: `would change user ${u.name}: ${changes.join('; ')}` };
  if (drift.args.length > 0) await runTool(ctx.run, 'usermod', [...drift.args, u.name]);
  const acct = (await lookupUser(ctx.run, u.name)) ?? cur;
  await applyUserFiles(ctx, u, acct, sudoersDir);
  const left = [
    ...(await accountDrift(ctx.run, u, acct, res)).changes,
    ...(await userFileChanges(u, acct, sudoersDir)),
  ];
  if (left.length > 0) return failed(`changed user ${u.name} but it still differs: ${left.join('; ')}`);
  return { outcome: 'updated', message: `changed user ${u.name}: ${changes.join('; ')}` };
}

export function createUserExecutor(options: UserExecutorOptions = {}): Executor {
  const sudoersDir = options.sudoersDir ?? '/etc/sudoers.d';
  return {
    type: 'user',
    async apply(params, ctx) {
      const u = parseParams(params);
      if (typeof u === 'string') return failed(u);
      try {
        return u.state === 'absent'
          ? await ensureAbsent(u, ctx, sudoersDir)
          : await ensurePresent(u, ctx, sudoersDir);
      } catch (err) {
        return failed(`user ${u.name}: ${errorText(err)}`);
      }
    },
  };
}

export const userExecutor: Executor = createUserExecutor();
