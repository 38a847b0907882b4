/**
 * Which service manager runs this node, when a resource names none: systemd when booted with it
 * (/run/systemd/system exists), else s6 when a scan directory is being supervised (s6-svscan keeps its
 * `.s6-svscan` control directory there), else pebble or vigil when their socket exists, else systemg
 * when `sysg` is installed.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable } from '../exec.ts';
import type { ServiceProviderName } from './types.ts';

export interface ServiceDetectionPaths {
  readonly systemdRunDir: string;
  readonly s6ScanDirs: readonly string[];
  readonly pebbleSocketPath: string;
  readonly vigilSocketPath: string;
  /** PATH searched for sysg. */
  readonly pathEnv?: string;
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isSocket(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isSocket() ?? false;
}

/** The first supervised s6 scan directory, if any. */
export async function findS6ScanDir(dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) if (await isDir(join(dir, '.s6-svscan'))) return dir;
  return undefined;
}

export async function detectServiceProvider(
  p: ServiceDetectionPaths,
): Promise<ServiceProviderName | undefined> {
  if (await isDir(p.systemdRunDir)) return 'systemd';
  if ((await findS6ScanDir(p.s6ScanDirs)) !== undefined) return 's6';
  if (await isSocket(p.pebbleSocketPath)) return 'pebble';
  if (await isSocket(p.vigilSocketPath)) return 'vigil';
  if (findExecutable('sysg', p.pathEnv)) return 'systemg';
  return undefined;
}

/** For the failure message when nothing was found. */
export function describeDetection(p: ServiceDetectionPaths): string {
  return [
    p.systemdRunDir,
    `s6 scan dir ${p.s6ScanDirs.join(' or ')}`,
    `pebble socket ${p.pebbleSocketPath}`,
    `vigil socket ${p.vigilSocketPath}`,
    'sysg on PATH',
  ].join(', ');
}
