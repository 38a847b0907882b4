/**
 * The executors of the file family, for the engine's registry. createFileFamilyExecutors lets the
 * engine tell the directory executor which paths the bundle manages, so `purge: true` spares them.
 */
import { blockinfileExecutor } from './blockinfile.ts';
import { cronExecutor } from './cron.ts';
import { createDirectoryExecutor, type DirectoryExecutorOptions } from './directory.ts';
import { fileLineExecutor } from './file-line.ts';
import { fileExecutor } from './file.ts';
import { hostExecutor } from './host.ts';
import { iniExecutor } from './ini.ts';
import { jsonFileExecutor } from './json-file.ts';
import { replaceExecutor } from './replace.ts';
import { symlinkExecutor } from './symlink.ts';
import { sysctlExecutor } from './sysctl.ts';
import type { Executor } from './types.ts';

export type FileFamilyOptions = DirectoryExecutorOptions;

export function createFileFamilyExecutors(options: FileFamilyOptions = {}): readonly Executor[] {
  return [
    fileExecutor,
    createDirectoryExecutor(options),
    symlinkExecutor,
    fileLineExecutor,
    blockinfileExecutor,
    replaceExecutor,
    iniExecutor,
    jsonFileExecutor,
    hostExecutor,
    sysctlExecutor,
    cronExecutor,
  ];
}

export const fileFamilyExecutors: readonly Executor[] = createFileFamilyExecutors();
