/**
 * Golden files for the policy compiler: every stack under test/fixtures/stacks/ and policies/ is
 * validated and compiled with fixed options; the diagnostics, the canonical snapshot and the bundle
 * documents must equal the committed expected.json. `UPDATE_GOLDEN=1` rewrites them.
 *
 * Per-fixture inputs (ignored by the loader, which only reads YAML): `secrets.txt` lists the secret
 * paths that exist, `traits.json` holds the envoy traits bundles are also built with.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  buildBundleDocument,
  deserializeSnapshot,
  serializeSnapshot,
  validateStacks,
} from '../server/policy/index.ts';
import type { BundleDocument, CompiledSnapshot } from '../server/policy/index.ts';

const repo = path.resolve(import.meta.dirname, '..');
const nowMs = 1_700_000_000_000;
const update = process.env.UPDATE_GOLDEN === '1';

function stackDirs(parent: string): string[] {
  const abs = path.join(repo, parent);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(abs, d.name))
    .sort();
}

function readOptional(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

function bundlesOf(
  snapshot: CompiledSnapshot,
  traits: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, { plain?: BundleDocument; withTraits?: BundleDocument }> = {};
  const base = { policyVersion: 7, secretsEpoch: 3, issuedAtMs: nowMs, expiresAtMs: nowMs + 86_400_000 };
  for (const e of snapshot.entries) {
    out[e.id] = {
      ...(e.usesTraits ? {} : { plain: buildBundleDocument(e, base) }),
      ...(traits ? { withTraits: buildBundleDocument(e, { ...base, traits }) } : {}),
    };
  }
  return out;
}

async function actualFor(dir: string): Promise<unknown> {
  const secrets = new Set((readOptional(path.join(dir, 'secrets.txt')) ?? '').split('\n').filter(Boolean));
  const traitsText = readOptional(path.join(dir, 'traits.json'));
  const traits = traitsText === undefined ? undefined : (JSON.parse(traitsText) as Record<string, unknown>);
  const result = await validateStacks(dir, {
    protectedPaths: [
      '/usr/local/bin/vigosrv',
      '/usr/local/bin/vigo',
      '/var/lib/vigo',
      '/etc/vigo-envoy',
      '/srv/vigo',
    ],
    protectedServices: ['vigosrv.service', 'vigo-envoy.service'],
    secretExists: (p) => secrets.has(p),
    now: () => nowMs,
  });
  if (!result.snapshot) return { diagnostics: result.diagnostics };
  const restored = deserializeSnapshot(serializeSnapshot(result.snapshot));
  assert.equal(restored.hash, result.snapshot.hash, 'snapshot survives serialization');
  return {
    diagnostics: result.diagnostics,
    snapshot: result.snapshot.toJSON(),
    bundles: bundlesOf(result.snapshot, traits),
  };
}

const dirs = [...stackDirs('test/fixtures/stacks'), ...stackDirs('policies')];

describe('policy golden files', () => {
  it('has fixtures to replay', () => {
    assert.ok(dirs.length > 0);
  });

  for (const dir of dirs) {
    const name = path.relative(repo, dir);
    it(name, async () => {
      const actual = JSON.parse(JSON.stringify(await actualFor(dir))) as unknown;
      const goldenFile = path.join(dir, 'expected.json');
      if (update) {
        const { format, resolveConfig } = await import('prettier');
        const options = (await resolveConfig(goldenFile)) ?? {};
        fs.writeFileSync(
          goldenFile,
          await format(JSON.stringify(actual), { ...options, filepath: goldenFile }),
        );
        return;
      }
      const expected = readOptional(goldenFile);
      assert.ok(
        expected !== undefined,
        `${name}/expected.json is missing; run with UPDATE_GOLDEN=1 and review it`,
      );
      assert.deepEqual(actual, JSON.parse(expected));
    });
  }
});
