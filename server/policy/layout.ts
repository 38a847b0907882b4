/**
 * Finds and classifies the files of a stacks tree (docs/stacks.md "Layout"). Hidden files and
 * directories are skipped, symbolic links are neither followed nor read, and the server's data dir is
 * skipped when it lies inside the tree; files that are not YAML are ignored except under templates/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compareText } from './diagnostics.ts';
import type { StacksTree } from './confine.ts';
import type { DiagnosticSink } from './diagnostics.ts';

export type FileKind =
  | 'configcrate'
  | 'template'
  | 'roles'
  | 'role'
  | 'common'
  | 'environments'
  | 'leaf'
  | 'claims'
  | 'waivers'
  | 'tasks'
  | 'workflows'
  | 'queries'
  | 'usercrate'
  | 'legacy-vars';

export interface StackFile {
  /** Relative to the stacks dir, with forward slashes. */
  rel: string;
  abs: string;
  kind: FileKind;
  /** Directory part of `rel` ('' at the root). */
  dir: string;
  depth: number;
}

const yamlExtensions = new Set(['.vgo', '.yaml', '.yml']);
const maxFiles = 200_000;

function stem(rel: string): string {
  return path.posix.basename(rel, path.posix.extname(rel));
}

export function classify(rel: string): FileKind | undefined {
  const first = rel.split('/')[0]!;
  const nested = rel.includes('/');
  if (nested && first === 'templates') return 'template';
  if (!yamlExtensions.has(path.posix.extname(rel))) return undefined;
  const base = stem(rel);
  if (nested && first === 'configcrates') return base === 'compliance' ? 'claims' : 'configcrate';
  if (nested && first === 'usercrates') return 'usercrate';
  if (nested && first === 'roles') return 'role';
  if (nested && first === 'vars') return 'legacy-vars';
  if (base === 'roles') return 'roles';
  if (base === 'common') return 'common';
  if (base === 'environments') return 'environments';
  if (base === 'compliance' || base === 'waivers') return 'waivers';
  if (!nested && base === 'tasks') return 'tasks';
  if (!nested && base === 'workflows') return 'workflows';
  if (!nested && base === 'queries') return 'queries';
  return 'leaf';
}

/** Every relevant file, sorted: shallower paths first, then by path (byte order). */
export function discoverStacks(tree: StacksTree, sink: DiagnosticSink): StackFile[] {
  const out: StackFile[] = [];
  const walk = (absDir: string, relDir: string): void => {
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      sink.error(
        'layout.unreadable',
        { file: relDir, line: 1, col: 1 },
        `cannot read directory: ${(err as Error).message}`,
      );
      return;
    }
    for (const d of dirents) {
      if (d.name.startsWith('.')) continue;
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const abs = path.join(absDir, d.name);
      if (d.isSymbolicLink()) {
        sink.warning(
          'layout.symlink',
          { file: rel, line: 1, col: 1 },
          'symbolic link: not followed and never read (a source: naming it, or a path through it, is refused)',
          'copy the file into the stacks tree instead',
        );
      } else if (tree.isDataDir(abs)) {
        sink.warning(
          'layout.data_dir',
          { file: rel, line: 1, col: 1 },
          "this is the server's data directory: it is skipped and nothing in it is read",
          'keep the data dir outside the stacks tree (server.data_dir, server.stacks_dir)',
        );
      } else if (d.isDirectory()) {
        walk(abs, rel);
      } else if (d.isFile()) {
        const kind = classify(rel);
        if (kind && out.length < maxFiles) {
          const dir = path.posix.dirname(rel);
          out.push({ rel, abs, kind, dir: dir === '.' ? '' : dir, depth: rel.split('/').length - 1 });
        }
      }
    }
  };
  walk(tree.root, '');
  return out.sort(compareFiles);
}

export function compareFiles(a: { rel: string; depth: number }, b: { rel: string; depth: number }): number {
  return a.depth - b.depth || compareText(a.rel, b.rel);
}

/** True when a file in `fileDir` inherits from a common.vgo / environments.vgo in `ancestorDir`. */
export function inheritsFrom(fileDir: string, ancestorDir: string): boolean {
  return ancestorDir === '' || fileDir === ancestorDir || fileDir.startsWith(ancestorDir + '/');
}
