/**
 * `source:` and every stack file stay inside the stacks tree: links, "..", absolute paths, hidden
 * paths and the server's data dir are refused with source.outside_stacks, and nothing is read from them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { testOptions, writeStack } from './testing.ts';
import { serializeSnapshot } from './snapshot.ts';
import type { ValidateOptions, ValidateResult } from './types.ts';
import { validateStacks } from './validate.ts';

const secret = 'BEGIN-TOP-SECRET-7f3a9c';
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-outside-'));
fs.writeFileSync(path.join(outside, 'ca.key'), `${secret}\n`);
fs.mkdirSync(path.join(outside, 'tpl'));
fs.writeFileSync(path.join(outside, 'tpl', 'x'), `${secret}\n`);
const made: string[] = [outside];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function stackWithSource(source: string, extra: Record<string, string> = {}): string {
  const dir = writeStack({
    'configcrates/motd.vgo':
      'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/motd\n' +
      `    source: ${JSON.stringify(source)}\n`,
    'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
    'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [base]\n',
    ...extra,
  });
  made.push(dir);
  return dir;
}

async function validate(dir: string, options: Partial<ValidateOptions> = {}): Promise<ValidateResult> {
  return validateStacks(dir, { ...testOptions, ...options });
}

function assertRefused(result: ValidateResult): void {
  const refused = result.diagnostics.filter((d) => d.code === 'source.outside_stacks');
  assert.equal(refused.length, 1, JSON.stringify(result.diagnostics, null, 1));
  const d = refused[0]!;
  assert.equal(d.severity, 'error');
  assert.deepEqual([d.file, d.line, d.col], ['configcrates/motd.vgo', 6, 13]);
  assert.notEqual(d.hint, '');
  assert.equal(result.snapshot, undefined);
  assert.ok(!JSON.stringify(result.diagnostics).includes(secret), 'the secret leaked into a diagnostic');
}

describe('source: confinement', () => {
  it('refuses a template that is a symbolic link to a file outside the tree', async () => {
    const dir = stackWithSource('templates/x', { 'templates/keep.tmpl': 'ok\n' });
    fs.symlinkSync(path.join(outside, 'ca.key'), path.join(dir, 'templates', 'x'));
    const result = await validate(dir);
    assertRefused(result);
    assert.match(
      result.diagnostics.find((d) => d.code === 'source.outside_stacks')!.message,
      /templates\/x is a symbolic link/,
    );
  });

  it('refuses a path through a symbolically linked directory', async () => {
    const dir = stackWithSource('templates/x');
    fs.symlinkSync(path.join(outside, 'tpl'), path.join(dir, 'templates'));
    assertRefused(await validate(dir));
  });

  it('refuses ".." and absolute paths', async () => {
    // Stacks and the secret are siblings under the temp dir, so this path names a real file.
    assertRefused(await validate(stackWithSource(`../${path.basename(outside)}/ca.key`)));
    assertRefused(await validate(stackWithSource(path.join(outside, 'ca.key'))));
    assertRefused(await validate(stackWithSource('templates/../../ca.key')));
  });

  it('refuses the data dir inside the tree, hidden or not, and never walks into it', async () => {
    const hidden = stackWithSource('.vigo/tls/ca.key', { '.vigo/tls/ca.key': `${secret}\n` });
    assertRefused(await validate(hidden, { dataDir: path.join(hidden, '.vigo') }));
    assertRefused(await validate(hidden));

    const plain = stackWithSource('data/tls/ca.key', {
      'data/tls/ca.key': `${secret}\n`,
      'data/broken.vgo': `envoys: [${secret}\n`,
    });
    const result = await validate(plain, { dataDir: path.join(plain, 'data') });
    assertRefused(result);
    assert.ok(result.diagnostics.some((d) => d.code === 'layout.data_dir' && d.file === 'data'));
    assert.ok(!result.diagnostics.some((d) => d.file.startsWith('data/')), 'a file of the data dir was read');
  });

  it('refuses a stacks dir that is the data dir itself', async () => {
    const dir = stackWithSource('templates/motd.tmpl', { 'templates/motd.tmpl': 'hello\n' });
    const result = await validate(dir, { dataDir: dir });
    assert.ok(result.diagnostics.some((d) => d.code === 'layout.missing'));
    assert.equal(result.snapshot, undefined);
  });

  it('reads templates of a tree whose root is itself a symbolic link, and of a data dir above it', async () => {
    const dir = stackWithSource('templates/motd.tmpl', { 'templates/motd.tmpl': 'hello {{ "world" }}\n' });
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    made.push(link);
    const result = await validate(link, { dataDir: path.dirname(dir) });
    assert.ok(result.snapshot, JSON.stringify(result.diagnostics));
    assert.match(serializeSnapshot(result.snapshot), /hello world/);
  });

  it('refuses a stack file that is a link, and lists it as ignored', async () => {
    const dir = stackWithSource('templates/motd.tmpl', { 'templates/motd.tmpl': 'hello\n' });
    fs.writeFileSync(path.join(outside, 'evil.vgo'), `envoys:\n  - match: "${secret}"\n    roles: [base]\n`);
    fs.symlinkSync(path.join(outside, 'evil.vgo'), path.join(dir, 'evil.vgo'));
    const result = await validate(dir);
    assert.ok(result.snapshot);
    assert.ok(result.diagnostics.some((d) => d.code === 'layout.symlink' && d.file === 'evil.vgo'));
    assert.ok(!serializeSnapshot(result.snapshot).includes(secret));
  });
});
