/**
 * The demo stacks `npm start` publishes match every host (`*`), so any agent pointed at a fresh server
 * converges them, a developer's own machine included: they may only create files and directories under
 * the demo directory. Real-server examples (packages, kernel settings, /etc) live in
 * policies/server-baseline, which matches no host by default.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { validateStacks } from '../server/policy/index.ts';

const repo = path.resolve(import.meta.dirname, '..');
const demoRoot = '/tmp/vigo-demo';
const options = { protectedPaths: [], protectedServices: [], secretExists: () => true };

describe('demo stacks', () => {
  it('manage only files and directories under the demo directory', async () => {
    const result = await validateStacks(path.join(repo, 'policies', 'demo'), options);
    assert.ok(result.snapshot, JSON.stringify(result.diagnostics));
    const resources = [...result.snapshot.instances.values()].flatMap((i) => i.resources);
    assert.ok(resources.length > 0);
    for (const r of resources) {
      assert.ok(['file', 'directory'].includes(r.type), `${r.id} is a ${r.type} resource`);
      const target = String(r.params['target_path']);
      assert.ok(
        target === demoRoot || target.startsWith(`${demoRoot}/`),
        `${r.id} manages ${target}, outside ${demoRoot}`,
      );
      assert.equal(r.params['owner'], undefined, `${r.id} changes an owner`);
    }
  });

  it('the server baseline example compiles and matches no host a catch-all would', async () => {
    const result = await validateStacks(path.join(repo, 'policies', 'server-baseline'), options);
    assert.ok(result.snapshot, JSON.stringify(result.diagnostics));
    assert.equal(result.snapshot.matchEntry('laptop.local'), undefined);
    assert.equal(result.snapshot.matchEntry('localhost'), undefined);
    assert.ok(result.snapshot.matchEntry('app-1.prod.example.com'));
  });
});
