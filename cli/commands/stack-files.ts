/**
 * Reads a stacks directory into the upload the server validates: every regular file below it, except
 * hidden files and directories (.git and editor droppings), with paths relative to the directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.ts';

export interface StackUploadFile {
  path: string;
  content: string;
}

export function readStackDir(dir: string): StackUploadFile[] {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory())
    throw usageError(`${dir} is not a directory of stacks`);
  const files: StackUploadFile[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const entry of fs
      .readdirSync(abs, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(childAbs, childRel);
      else if (entry.isFile()) files.push({ path: childRel, content: fs.readFileSync(childAbs, 'utf8') });
    }
  };
  walk(root, '');
  if (files.length === 0) throw usageError(`${dir} contains no files`);
  return files;
}
