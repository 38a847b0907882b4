/**
 * `sshkey`: one entry of an OpenSSH authorized_keys file, leaving the other entries alone (unless
 * `exclusive: true`, which removes every key but the managed one).
 *
 * An entry is identified by its key type and key material, so a changed comment or changed options
 * update the existing line instead of adding a second one. With `user:` the file is that account's
 * ~/.ssh/authorized_keys; ~/.ssh is created 0700 and the file 0600, both owned by the account, since
 * sshd's StrictModes ignores keys in files others can write. `target_path` names any other file
 * (an AuthorizedKeysFile elsewhere).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { lookupUser, type PasswdEntry } from './exec.ts';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalBool,
  optionalString,
  parseMode,
  resolveAttrs,
  splitLines,
  stateParam,
  targetPath,
  type DesiredAttrs,
  type TextEdit,
} from './fs-util.ts';
import type { CommandRunner, Executor } from './types.ts';

const keyTypes = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
]);

export interface AuthorizedKey {
  readonly options: string;
  readonly keyType: string;
  readonly blob: string;
  readonly comment: string;
}

/** Splits off a leading options field; options may hold quoted strings with spaces ("command=\"a b\""). */
function splitOptions(line: string): [string, string] {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return [line.slice(0, i), line.slice(i).trimStart()];
  }
  return [line, ''];
}

/** One authorized_keys line, or undefined for comments, blank lines and lines that are not a key. */
export function parseAuthorizedKey(line: string): AuthorizedKey | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  let options = '';
  let rest = t;
  const first = t.split(/\s+/)[0] ?? '';
  if (!keyTypes.has(first)) [options, rest] = splitOptions(t);
  const [keyType = '', blob = '', ...comment] = rest.split(/\s+/);
  if (!keyTypes.has(keyType) || !/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) return undefined;
  return { options, keyType, blob, comment: comment.join(' ') };
}

function formatKey(k: AuthorizedKey): string {
  return [k.options, k.keyType, k.blob, k.comment].filter((p) => p !== '').join(' ');
}

function desiredKey(params: Readonly<Record<string, unknown>>): AuthorizedKey {
  const raw = optionalString(params, 'key')?.trim();
  if (raw === undefined || raw === '') fail('key is required, e.g. key: "ssh-ed25519 AAAA… alice@laptop"');
  if (raw.includes('\n')) fail('key must be a single authorized_keys line');
  const parsed = parseAuthorizedKey(raw);
  if (parsed === undefined) {
    fail(`key is not an OpenSSH public key (expected "<type> <base64> [comment]", type such as ssh-ed25519)`);
  }
  const options = optionalString(params, 'options');
  const comment = optionalString(params, 'comment');
  if (options?.includes('\n') === true || comment?.includes('\n') === true) {
    fail('options and comment must be single lines');
  }
  return { ...parsed, options: options ?? parsed.options, comment: comment ?? parsed.comment };
}

function keyEdit(
  current: string,
  want: AuthorizedKey,
  present: boolean,
  exclusive: boolean,
): TextEdit | null {
  const lines = splitLines(current);
  const same = (l: string): boolean => {
    const k = parseAuthorizedKey(l);
    return k !== undefined && k.keyType === want.keyType && k.blob === want.blob;
  };
  const shortId = `${want.keyType} …${want.blob.slice(-12)}`;
  if (!present) {
    const kept = lines.filter((l) => !same(l));
    if (kept.length === lines.length) return null;
    return { text: joinLines(kept), summary: `removed key ${shortId}`, removes: true };
  }
  const line = formatKey(want);
  const others = exclusive ? lines.filter((l) => parseAuthorizedKey(l) === undefined) : lines;
  const removedOthers = lines.filter((l) => parseAuthorizedKey(l) !== undefined && !same(l)).length;
  const at = others.findIndex(same);
  const next = [...others];
  if (at < 0) next.push(line);
  else {
    next[at] = line;
    for (let i = next.length - 1; i > at; i--) if (same(next[i] ?? '')) next.splice(i, 1);
  }
  if (joinLines(next) === joinLines(lines)) return null;
  const parts = [at < 0 ? `added key ${shortId}` : `updated key ${shortId}`];
  if (exclusive && removedOthers > 0) parts.push(`removed ${removedOthers} other key(s)`);
  return { text: joinLines(next), summary: parts.join(', ') };
}

export interface SshkeyExecutorOptions {
  /** Resolves `user:` to its account; NSS (getent) unless a test points elsewhere. */
  readonly lookupUser?: (run: CommandRunner, name: string) => Promise<PasswdEntry | undefined>;
}

interface KeyFile {
  readonly file: string;
  readonly attrs: DesiredAttrs;
  /** The account's ~/.ssh, created 0700 when missing. */
  readonly sshDir?: { readonly dir: string; readonly uid: number; readonly gid: number };
}

async function keyFile(
  params: Readonly<Record<string, unknown>>,
  run: CommandRunner,
  lookup: NonNullable<SshkeyExecutorOptions['lookupUser']>,
): Promise<KeyFile> {
  const user = optionalString(params, 'user');
  const explicit = params.target_path !== undefined || params.path !== undefined;
  if (user === undefined || user === '') {
    if (!explicit) fail('set user (the account whose authorized_keys to edit) or target_path');
    return { file: targetPath(params), attrs: await resolveAttrs(params, run) };
  }
  const acct = await lookup(run, user);
  if (acct === undefined)
    fail(`unknown user "${user}"; create it first (a user resource this one depends_on)`);
  const mode = parseMode(params.mode) ?? 0o600;
  if (explicit) return { file: targetPath(params), attrs: { uid: acct.uid, gid: acct.gid, mode } };
  if (!path.isAbsolute(acct.home)) fail(`user "${user}" has no absolute home directory (${acct.home})`);
  const dir = path.join(acct.home, '.ssh');
  return {
    file: path.join(dir, 'authorized_keys'),
    attrs: { uid: acct.uid, gid: acct.gid, mode },
    sshDir: { dir, uid: acct.uid, gid: acct.gid },
  };
}

export function createSshkeyExecutor(options: SshkeyExecutorOptions = {}): Executor {
  const lookup = options.lookupUser ?? lookupUser;
  return {
    type: 'sshkey',
    apply: (params, ctx) =>
      guardApply(async () => {
        const want = desiredKey(params);
        const present = stateParam(params) === 'present';
        const exclusive = optionalBool(params, 'exclusive', false);
        if (exclusive && !present) fail('exclusive: true needs state: present');
        const target = await keyFile(params, ctx.run, lookup);
        const ssh = target.sshDir;
        const dirMissing = ssh !== undefined && (await fsp.stat(ssh.dir).catch(() => null)) === null;
        if (present && ssh && dirMissing && !ctx.dryRun) {
          await fsp.mkdir(ssh.dir, { mode: 0o700 });
          await fsp.chown(ssh.dir, ssh.uid, ssh.gid);
        }
        const r = await applyTextEdit(ctx, {
          file: target.file,
          create: true,
          createParent: ssh !== undefined,
          absent: !present,
          attrs: target.attrs,
          transform: (text) => keyEdit(text, want, present, exclusive),
        });
        return dirMissing && present && r.outcome !== 'failed'
          ? { ...r, message: `${r.message} (${ctx.dryRun ? 'would create' : 'created'} ${ssh?.dir} 0700)` }
          : r;
      }),
  };
}

export const sshkeyExecutor: Executor = createSshkeyExecutor();
