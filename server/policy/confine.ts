/**
 * Every file the pipeline reads on a stack's behalf (stack YAML files, `source:` templates) stays inside
 * the stacks tree: the root is resolved once with realpath, no symbolic link on the way to a file is
 * ever followed, and nothing inside the server's data directory is read even when that directory sits
 * inside the tree (`--stacks .` with the user-mode data dir `./.vigo`). A refused path is never opened
 * or stat-ed through a link: components are lstat-ed one by one, the file is opened with O_NOFOLLOW, and
 * the path of the descriptor actually opened is checked again, so swapping a component for a link
 * between the checks and the read does not help either.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ConfinedRead =
  | { kind: 'ok'; text: string }
  | { kind: 'missing' }
  | { kind: 'too_large'; bytes: number }
  | { kind: 'refused'; reason: string };

/** Whether `inner` is `outer` or lies below it (both absolute and normalized). */
export function isWithin(outer: string, inner: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Why a stacks-relative path may not be read at all, judged from its text alone. */
export function lexicalRefusal(rel: string): string | undefined {
  if (rel.includes('\0')) return 'it contains a NUL byte';
  if (path.posix.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel))
    return 'it is an absolute path; source: files are named relative to the stacks dir';
  const parts = rel.split(/[\\/]/);
  if (parts.includes('..')) return 'it climbs out of the stacks dir with ".."';
  if (parts.some((p) => p.startsWith('.')))
    return 'it names a hidden file or directory, which is not part of the stacks tree';
  return undefined;
}

/** The path the kernel says an open descriptor refers to, when the platform can tell. */
function descriptorPath(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

export class StacksTree {
  private constructor(
    /** The stacks root, resolved with realpath. */
    readonly root: string,
    /** The server's data dir when it lies inside the tree (its contents are never read), else undefined. */
    readonly dataDirInside: string | undefined,
  ) {}

  /** Undefined when `root` is not a directory. */
  static open(root: string, dataDir?: string): StacksTree | undefined {
    let real: string;
    try {
      real = fs.realpathSync(root);
      if (!fs.statSync(real).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
    // A data dir that contains the tree (the default <data_dir>/stacks, or an upload's scratch dir) needs
    // no rule of its own: nothing outside the tree is read anyway.
    const data = dataDir === undefined ? undefined : realpathOrSelf(dataDir);
    return new StacksTree(real, data !== undefined && isWithin(real, data) ? data : undefined);
  }

  /** Absolute path of a stacks-relative one (forward slashes), without touching the disk. */
  abs(rel: string): string {
    return path.join(this.root, ...rel.split('/'));
  }

  /** Whether an absolute path under the root is the data dir or inside it. */
  isDataDir(abs: string): boolean {
    return this.dataDirInside !== undefined && isWithin(this.dataDirInside, abs);
  }

  /** Why `rel` may not be read, checking the text and then each component with lstat (never following). */
  refusal(rel: string): string | undefined {
    const lexical = lexicalRefusal(rel);
    if (lexical !== undefined) return lexical;
    const parts = rel.split('/').filter((p) => p !== '');
    let abs = this.root;
    for (let i = 0; i < parts.length; i++) {
      abs = path.join(abs, parts[i]!);
      if (this.isDataDir(abs)) return "it lies inside the server's data directory";
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        return undefined; // missing: reported as such by the reader
      }
      const shown = parts.slice(0, i + 1).join('/');
      if (st.isSymbolicLink()) return `${shown} is a symbolic link, and links are never followed`;
      if (i < parts.length - 1 && !st.isDirectory()) return undefined;
    }
    return undefined;
  }

  /** Reads a regular file of the tree, refusing links, the data dir and anything resolving outside. */
  read(rel: string, maxBytes: number): ConfinedRead {
    const refused = this.refusal(rel);
    if (refused !== undefined) return { kind: 'refused', reason: refused };
    return this.readWalked(rel, maxBytes);
  }

  /**
   * Reads a file the layout walk found, which lstat-ed every component on the way without following
   * any: only what can have changed since is checked again (the opened file and where it really is).
   */
  readWalked(rel: string, maxBytes: number): ConfinedRead {
    const abs = this.abs(rel);
    let fd: number;
    try {
      fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP')
        return { kind: 'refused', reason: `${rel} is a symbolic link, and links are never followed` };
      return { kind: 'missing' };
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return { kind: 'missing' };
      const opened = descriptorPath(fd) ?? realpathOrSelf(abs);
      if (!isWithin(this.root, opened) || this.isDataDir(opened))
        return { kind: 'refused', reason: `it resolves to ${opened}, outside the stacks tree` };
      if (st.size > maxBytes) return { kind: 'too_large', bytes: st.size };
      return { kind: 'ok', text: fs.readFileSync(fd, 'utf8') };
    } finally {
      fs.closeSync(fd);
    }
  }
}
