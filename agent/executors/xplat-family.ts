/**
 * The cross-platform executors: key/field edits, SSH keys, processes, checkouts, language packages,
 * package files, repositories and reboots. The reboot executor keeps its loop guard in the agent's state dir.
 */
import { fieldEditExecutor } from './field-edit.ts';
import { gemExecutor } from './gem.ts';
import { gitExecutor } from './git.ts';
import { npmExecutor } from './npm.ts';
import { nonrepoPackageExecutor, sourcePackageExecutor } from './package-file.ts';
import { pipExecutor } from './pip.ts';
import { processExecutor } from './process.ts';
import { createRebootExecutor } from './reboot.ts';
import { repositoryExecutor } from './repository.ts';
import { sshkeyExecutor } from './sshkey.ts';
import { dockerComposeExecutor } from './docker-compose.ts';
import { containerExecutor, dockerContainerExecutor } from './docker-container.ts';
import { dockerImageExecutor } from './docker-image.ts';
import type { Executor } from './types.ts';

export interface XplatFamilyOptions {
  /** The agent's state dir (default /var/lib/vigo). */
  readonly stateDir?: string;
}

export function createXplatFamilyExecutors(options: XplatFamilyOptions = {}): readonly Executor[] {
  return [
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
    createRebootExecutor({ stateDir: options.stateDir }),
    dockerImageExecutor,
    dockerContainerExecutor,
    containerExecutor,
    dockerComposeExecutor,
  ];
}
