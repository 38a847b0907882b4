/**
 * Stacks diagnostics as a SARIF 2.1.0 log, the format code-scanning services (GitHub, GitLab, Azure
 * DevOps) read: one run of the tool `vigocli`, one rule per diagnostic code, each result located by its
 * file (relative to the stacks directory, under the base id STACKS) and its 1-based line and column.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from '../../server/policy/index.ts';

export interface SarifSkipped {
  check: string;
  reason: string;
}

const levels = { error: 'error', warning: 'warning', info: 'note' } as const;

/** A relative path as a URI reference: each segment percent-encoded, slashes kept. */
function relativeUri(file: string): string {
  return file
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

export function toSarif(
  dir: string,
  diagnostics: readonly Diagnostic[],
  skipped: readonly SarifSkipped[],
): Record<string, unknown> {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  const ruleIndex = new Map(codes.map((code, i) => [code, i]));
  const results = diagnostics.map((d) => ({
    ruleId: d.code,
    ruleIndex: ruleIndex.get(d.code)!,
    level: levels[d.severity],
    message: { text: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message },
    ...(d.file === ''
      ? {}
      : {
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: relativeUri(d.file), uriBaseId: 'STACKS' },
                region: { startLine: Math.max(1, d.line), startColumn: Math.max(1, d.col) },
              },
            },
          ],
        }),
  }));
  const root = pathToFileURL(path.resolve(dir)).href;
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vigocli',
            informationUri: 'https://vigo.alexander4.io/',
            rules: codes.map((code) => ({ id: code, shortDescription: { text: code } })),
          },
        },
        originalUriBaseIds: { STACKS: { uri: root.endsWith('/') ? root : `${root}/` } },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: skipped.map((s) => ({
              level: 'note',
              descriptor: { id: s.check },
              message: { text: `skipped: ${s.reason}` },
            })),
          },
        ],
        results,
      },
    ],
  };
}
