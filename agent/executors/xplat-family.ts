/** The cross-platform executors: key/field edits, SSH keys, processes, checkouts, language and file packages, containers. */
import { fieldEditExecutor } from './field-edit.ts';
import { sshkeyExecutor } from './sshkey.ts';
import { processExecutor } from './process.ts';
import { gitExecutor } from './git.ts';
import { npmExecutor } from './npm.ts';
import { pipExecutor } from './pip.ts';
import { gemExecutor } from './gem.ts';
import { nonrepoPackageExecutor, sourcePackageExecutor } from './package-file.ts';
import { repositoryExecutor } from './repository.ts';
import type { Executor } from './types.ts';

export const xplatFamilyExecutors: readonly Executor[] = [
  fieldEditExecutor,
  sshkeyExecutor,
  processExecutor,
  gitExecutor,
  npmExecutor,
  pipExecutor,
  gemExecutor,
  nonrepoPackageExecutor,
  sourcePackageExecutor,
  repositoryExecutor,
];
