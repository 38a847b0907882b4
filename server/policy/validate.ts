/**
 * The one validation path shared by `vigocli config validate DIR` and publish: load every file,
 * check structure and references, compile every match entry, and hand back all diagnostics at once
 * (sorted by file and line) plus the snapshot when nothing is an error.
 */
import { checkReferences } from './checks-static.ts';
import { compileStacks } from './compile.ts';
import { DiagnosticSink } from './diagnostics.ts';
import { loadStacks } from './load.ts';
import type { ValidateOptions, ValidateResult } from './types.ts';
import { checkUrls } from './url-check.ts';
import { SourceMap } from './yaml-source.ts';

export async function validateStacks(dir: string, options: ValidateOptions): Promise<ValidateResult> {
  const sink = new DiagnosticSink();
  const map = new SourceMap();
  const secrets = { exists: (p: string) => options.secretExists(p), sink };
  const stacks = loadStacks(dir, sink, map, secrets, options.dataDir, options.carry?.crates);
  checkReferences(stacks, sink);
  if (options.checkUrls) await checkUrls(stacks.urls, options.checkUrls, sink);
  const snapshot = compileStacks(stacks, sink, {
    protectedPaths: options.protectedPaths,
    protectedServices: options.protectedServices,
    nowMs: (options.now ?? Date.now)(),
    forTransfer: options.forTransfer === true,
    ...(options.carry === undefined ? {} : { carry: options.carry.instances }),
  });
  const diagnostics = sink.list();
  return snapshot && !diagnostics.some((d) => d.severity === 'error')
    ? { diagnostics, snapshot }
    : { diagnostics };
}
