/** Helpers for this module's tests: write a stacks tree into a temp dir and validate it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateStacks } from './validate.ts';
import type { ValidateOptions, ValidateResult } from './types.ts';

export const testOptions: ValidateOptions = {
  protectedPaths: ['/usr/local/bin/vigosrv', '/var/lib/vigo'],
  protectedServices: ['vigosrv.service', 'vigo-envoy.service'],
  secretExists: () => true,
  now: () => 1_700_000_000_000,
};

/** Writes `files` (relative path → content) under a fresh temp dir and returns the dir. */
export function writeStack(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-stack-'));
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  }
  return dir;
}

/** Validates a stack written from `files`, removing the temp dir afterwards. */
export async function validateFiles(
  files: Record<string, string>,
  options: Partial<ValidateOptions> = {},
): Promise<ValidateResult> {
  const dir = writeStack(files);
  try {
    return await validateStacks(dir, { ...testOptions, ...options });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `code file:line:col` of every error, for compact assertions. */
export function errorsOf(result: ValidateResult): string[] {
  return result.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code} ${d.file}:${d.line}:${d.col}`);
}
