/**
 * `repository`: a package repository the host's package manager uses, with its signing key.
 *
 * apt: /etc/apt/sources.list.d/<name>.list with one `deb [signed-by=…] url suite components` line and
 * the key in /etc/apt/keyrings/<name>.asc, so the key vouches for this repository only (not for every
 * source, as apt-key did). dnf: /etc/yum.repos.d/<name>.repo with gpgcheck and the key in
 * /etc/pki/rpm-gpg/RPM-GPG-KEY-<name>. apk: the URL's line in /etc/apk/repositories and the RSA key in
 * /etc/apk/keys/<name>.rsa.pub. Files the agent owns are rewritten whole; /etc/apk/repositories is
 * shared, so only its line is edited.
 *
 * After a change the package lists are refreshed (`update: false` skips it); for apt only the changed
 * source is fetched, so a broken unrelated source does not fail this resource.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { findExecutable } from './exec.ts';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  lstatIfExists,
  optionalBool,
  optionalString,
  readIfExists,
  requiredString,
  result,
  splitLines,
  stateParam,
  writeFileAtomic,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  downloadFile,
  mustRun,
  oneOf,
  optionalStringList,
  parseSha256,
  sha256File,
  toolEnv,
} from './xplat-util.ts';

export interface RepositoryExecutorOptions {
  /** Prefix of every path written: tests use a temporary root. */
  readonly root?: string;
}

type Provider = 'apt' | 'dnf' | 'apk';
type Params = Readonly<Record<string, unknown>>;

const maxKeyBytes = 1024 * 1024;
const managedHeader = '# Managed by vigo: changes here are overwritten.';

interface RepoFile {
  readonly file: string;
  /** null: the file must not exist. */
  readonly content: string | null;
  readonly mode: number;
}

interface KeySpec {
  readonly file: string;
  readonly inline?: string;
  readonly url?: string;
  readonly checksum?: string;
}

function detectProvider(): Provider {
  if (findExecutable('apt-get')) return 'apt';
  if (findExecutable('dnf')) return 'dnf';
  if (findExecutable('apk')) return 'apk';
  fail('no apt-get, dnf or apk here: set provider');
}

function checkUrl(url: string, field: string): void {
  if (!/^(https?|ftp|file):\/\/[^\s]+$/.test(url) && !/^\/[^\s]*$/.test(url)) {
    fail(`${field} must be an http(s), ftp or file URL without spaces, got "${url}"`);
  }
}

function word(value: string, field: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/~+-]*$/.test(value)) fail(`${field} "${value}" is not a valid ${field}`);
  return value;
}

function keySpec(params: Params, file: string | undefined, armor: string): KeySpec | undefined {
  const inline = optionalString(params, 'key');
  const url = optionalString(params, 'key_url');
  const sum = optionalString(params, 'key_checksum');
  if (inline !== undefined && url !== undefined) fail('set key or key_url, not both');
  if (inline === undefined && url === undefined) return undefined;
  if (file === undefined) fail('this provider takes no key');
  if (inline !== undefined && !inline.trimStart().startsWith(armor)) {
    fail(`key must be an ASCII-armored public key starting with "${armor}"`);
  }
  if (url !== undefined) {
    if (!/^https:\/\//.test(url) && sum === undefined)
      fail('key_url must be https unless key_checksum is set');
    checkUrl(url, 'key_url');
  }
  return { file, inline, url, checksum: sum !== undefined ? parseSha256(sum, 'key_checksum') : undefined };
}

function aptFiles(name: string, params: Params, root: string): { files: RepoFile[]; key?: KeySpec } {
  const url = requiredString(params, 'url');
  checkUrl(url, 'url');
  const suite = word(requiredString(params, 'distribution'), 'distribution');
  const components = optionalStringList(params, 'components').map((c) => word(c, 'component'));
  const arch = optionalStringList(params, 'arch').map((a) => word(a, 'arch'));
  const keyFile = path.join(root, 'etc/apt/keyrings', `${name}.asc`);
  const key = keySpec(params, keyFile, '-----BEGIN PGP PUBLIC KEY BLOCK-----');
  const opts = [
    ...(arch.length > 0 ? [`arch=${arch.join(',')}`] : []),
    ...(key ? [`signed-by=${path.join('/etc/apt/keyrings', `${name}.asc`)}`] : []),
  ];
  const line = ['deb', ...(opts.length > 0 ? [`[${opts.join(' ')}]`] : []), url, suite, ...components].join(
    ' ',
  );
  const list = path.join(root, 'etc/apt/sources.list.d', `${name}.list`);
  return { files: [{ file: list, content: `${managedHeader}\n${line}\n`, mode: 0o644 }], key };
}

function dnfFiles(name: string, params: Params, root: string): { files: RepoFile[]; key?: KeySpec } {
  const url = requiredString(params, 'url');
  checkUrl(url, 'url');
  const keyPath = path.join('/etc/pki/rpm-gpg', `RPM-GPG-KEY-${name}`);
  const key = keySpec(params, path.join(root, keyPath), '-----BEGIN PGP PUBLIC KEY BLOCK-----');
  const gpgcheck = optionalBool(params, 'gpgcheck', key !== undefined);
  const lines = [
    managedHeader,
    `[${name}]`,
    `name=${name}`,
    `baseurl=${url}`,
    `enabled=${optionalBool(params, 'enabled', true) ? 1 : 0}`,
    `gpgcheck=${gpgcheck ? 1 : 0}`,
    ...(key ? [`gpgkey=file://${keyPath}`] : []),
  ];
  const repo = path.join(root, 'etc/yum.repos.d', `${name}.repo`);
  return { files: [{ file: repo, content: joinLines(lines), mode: 0o644 }], key };
}

/** Writes a file the agent owns whole; a change string, or null when it is already so. */
async function ensureFile(ctx: ExecutorContext, f: RepoFile): Promise<string | null> {
  const st = await lstatIfExists(f.file);
  if (f.content === null) {
    if (!st) return null;
    if (!ctx.dryRun) {
      await ctx.snapshotFile(f.file);
      await fsp.rm(f.file);
    }
    return `removed ${f.file}`;
  }
  const now = await readIfExists(f.file);
  if (st?.isFile() && now?.toString('utf8') === f.content && (st.mode & 0o7777) === f.mode) return null;
  if (!ctx.dryRun) {
    if (st) await ctx.snapshotFile(f.file);
    await fsp.mkdir(path.dirname(f.file), { recursive: true, mode: 0o755 });
    await writeFileAtomic(f.file, f.content, { ...ownIds(), mode: f.mode });
    if ((await fsp.readFile(f.file, 'utf8')) !== f.content) fail(`${f.file} differs after writing it`);
  }
  return `${st ? 'updated' : 'created'} ${f.file}`;
}

/** Root writes root-owned files; an unprivileged agent (tests) writes its own. */
function ownIds(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** The key's file: inline content as given; a key_url is fetched only when the file is missing or fails key_checksum. */
async function ensureKey(ctx: ExecutorContext, subject: string, key: KeySpec): Promise<string | null> {
  if (key.inline !== undefined) {
    const content = key.inline.endsWith('\n') ? key.inline : `${key.inline}\n`;
    return ensureFile(ctx, { file: key.file, content, mode: 0o644 });
  }
  const st = await lstatIfExists(key.file);
  if (st?.isFile() && (key.checksum === undefined || (await sha256File(key.file)) === key.checksum))
    return null;
  if (ctx.dryRun) return `would fetch ${key.file} from ${key.url}`;
  const dir = path.dirname(key.file);
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = path.join(dir, `.${path.basename(key.file)}.download`);
  try {
    await downloadFile(ctx, subject, key.url ?? '', temp, { maxBytes: maxKeyBytes, timeoutMs: 60_000 });
    if (key.checksum !== undefined && (await sha256File(temp)) !== key.checksum) {
      fail(`${subject}: the key from ${key.url} does not match key_checksum; not installed`);
    }
    await fsp.chmod(temp, 0o644);
    if (st) await ctx.snapshotFile(key.file);
    await fsp.rename(temp, key.file);
  } finally {
    await fsp.rm(temp, { force: true });
  }
  return `${st ? 'replaced' : 'fetched'} ${key.file}`;
}

async function refresh(
  ctx: ExecutorContext,
  subject: string,
  provider: Provider,
  name: string,
): Promise<void> {
  const options = { env: toolEnv({ DEBIAN_FRONTEND: 'noninteractive' }), timeoutMs: 600_000 };
  if (provider === 'apt') {
    const only = [
      '-o',
      `Dir::Etc::sourcelist=sources.list.d/${name}.list`,
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      'APT::Get::List-Cleanup=0',
    ];
    await mustRun(ctx, subject, 'apt-get', ['update', '-q', ...only], options);
  } else if (provider === 'dnf') {
    await mustRun(ctx, subject, 'dnf', ['makecache', '-q', `--repo=${name}`], options);
  } else {
    await mustRun(ctx, subject, 'apk', ['update', '-q'], options);
  }
}

async function applyApk(ctx: ExecutorContext, params: Params, name: string, root: string, present: boolean) {
  const url = requiredString(params, 'url');
  checkUrl(url, 'url');
  const key = keySpec(
    params,
    path.join(root, 'etc/apk/keys', `${name}.rsa.pub`),
    '-----BEGIN PUBLIC KEY-----',
  );
  const changes: string[] = [];
  const list = await applyTextEdit(ctx, {
    file: path.join(root, 'etc/apk/repositories'),
    create: true,
    createParent: true,
    absent: !present,
    attrs: {},
    transform: (text) => {
      const lines = splitLines(text);
      const has = lines.some((l) => l.trim() === url);
      if (present === has) return null;
      const next = present ? [...lines, url] : lines.filter((l) => l.trim() !== url);
      return { text: joinLines(next), summary: `${present ? 'added' : 'removed'} ${url}`, removes: !present };
    },
  });
  if (list.outcome === 'failed') fail(list.message);
  if (list.outcome !== 'none') changes.push(list.message);
  if (key && present) {
    const k = await ensureKey(ctx, `repository ${name}`, key);
    if (k) changes.push(k);
  } else if (key) {
    const k = await ensureFile(ctx, { file: key.file, content: null, mode: 0o644 });
    if (k) changes.push(k);
  }
  return changes;
}

/** state: absent for apt and dnf: the agent's own source and key files, found by name alone. */
async function removeOwned(ctx: ExecutorContext, provider: 'apt' | 'dnf', name: string, root: string) {
  const files =
    provider === 'apt'
      ? [`etc/apt/sources.list.d/${name}.list`, `etc/apt/keyrings/${name}.asc`]
      : [`etc/yum.repos.d/${name}.repo`, `etc/pki/rpm-gpg/RPM-GPG-KEY-${name}`];
  const changes: string[] = [];
  for (const f of files) {
    const c = await ensureFile(ctx, { file: path.join(root, f), content: null, mode: 0o644 });
    if (c) changes.push(c);
  }
  return changes;
}

export function createRepositoryExecutor(options: RepositoryExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  return {
    type: 'repository',
    apply: (params, ctx) =>
      guardApply(async (): Promise<ExecutorResult> => {
        const name = requiredString(params, 'repository');
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
          fail(`repository "${name}" must be a plain file name`);
        const provider =
          params.provider === undefined
            ? detectProvider()
            : oneOf(params, 'provider', ['apt', 'dnf', 'apk'], 'apt');
        const present = stateParam(params) === 'present';
        const subject = `repository ${name} (${provider})`;
        let changes: string[];
        if (provider === 'apk') changes = await applyApk(ctx, params, name, root, present);
        else if (!present) changes = await removeOwned(ctx, provider, name, root);
        else {
          const { files, key } =
            provider === 'apt' ? aptFiles(name, params, root) : dnfFiles(name, params, root);
          changes = [];
          for (const f of files) {
            const c = await ensureFile(ctx, f);
            if (c) changes.push(c);
          }
          if (key) {
            const c = await ensureKey(ctx, subject, key);
            if (c) changes.push(c);
          }
        }
        if (changes.length === 0) return result('none', `${subject} is ${present ? 'configured' : 'absent'}`);
        const outcome = !present
          ? 'deleted'
          : changes.some((c) => c.startsWith('created'))
            ? 'created'
            : 'updated';
        if (ctx.dryRun)
          return result(
            outcome,
            `would change ${subject}: ${changes.map((c) => c.replace(/^would /, '')).join(', ')}`,
          );
        if (present && optionalBool(params, 'update', true)) await refresh(ctx, subject, provider, name);
        return result(outcome, `${subject}: ${changes.join(', ')}`);
      }),
  };
}

export const repositoryExecutor: Executor = createRepositoryExecutor();
