import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError } from '../errors.ts';
import { checkTreeSize, offlineLimits } from './config-validate.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-tree-size-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.mkdirSync(path.join(dir, 'configcrates'));
fs.writeFileSync(path.join(dir, 'envoys.vgo'), 'x'.repeat(100));
fs.writeFileSync(path.join(dir, 'configcrates', 'a.vgo'), 'y'.repeat(100));
fs.writeFileSync(path.join(dir, '.hidden'), 'z'.repeat(10_000));

function refusal(fn: () => void): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('offline validation bounds what it reads', () => {
  it('accepts a tree within the limits, hidden files not counted', () => {
    checkTreeSize(dir, 2, 200);
  });

  it('refuses more files than the server accepts', () => {
    const err = refusal(() => checkTreeSize(dir, 1, 1_000_000));
    assert.equal(err.code, 'publish.upload_invalid');
    assert.equal(err.exitCode, 1);
  });

  it('refuses more bytes than the server accepts', () => {
    const err = refusal(() => checkTreeSize(dir, 10, 199));
    assert.equal(err.code, 'request.too_large');
  });

  it("uses the server's default limits", () => {
    const limits = offlineLimits();
    assert.equal(limits.maxBytes, 67_108_864);
    assert.equal(limits.timeoutMs, 60_000);
    assert.equal(limits.maxHeapMb, 1024);
  });
});
