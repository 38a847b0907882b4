import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configKeys, configRegistry, loadConfig } from './index.ts';

const exampleFile = fileURLToPath(new URL('../../deploy/server.example.yaml', import.meta.url));
const exampleText = fs.readFileSync(exampleFile, 'utf8');

/** Settings whose default depends on the machine are written "#key: value"; this enables them. */
function enableCommentedSettings(text: string): string {
  return text.replace(/^(\s*)#(?=[a-z_]+:)/gm, '$1');
}

function loadText(t: TestContext, text: string, argv: string[] = []): ReturnType<typeof loadConfig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'server.yaml');
  fs.writeFileSync(file, text);
  return loadConfig({ argv: ['--config', file, ...argv], env: {}, cwd: dir });
}

describe('deploy/server.example.yaml', () => {
  it('loads without error, and every value it sets is the default', (t) => {
    for (const argv of [[], ['--system']]) {
      const loaded = loadText(t, exampleText, argv);
      const defaults = loadConfig({ argv: ['--help', ...argv], env: {}, cwd: path.dirname(exampleFile) });
      for (const key of configKeys) {
        if (loaded.sources[key] !== 'file') continue;
        assert.deepEqual(
          loaded.config[key],
          defaults.config[key],
          `${key} in the example differs from its default`,
        );
      }
    }
  });

  it('sets every registered option, directly or as a "#key:" line that loads once enabled', (t) => {
    const loaded = loadText(t, enableCommentedSettings(exampleText));
    const missing = configKeys.filter((key) => loaded.sources[key] !== 'file');
    assert.deepEqual(missing, [], `add these options to deploy/server.example.yaml: ${missing.join(', ')}`);
  });

  it("comments every option with the registry's doc line and its environment variable", () => {
    const comments = exampleText
      .split('\n')
      .filter((line) => /^\s*# /.test(line))
      .join('\n');
    for (const key of configKeys) {
      const option = configRegistry[key];
      assert.ok(comments.includes(option.doc), `the example lacks the doc line of ${key}: "${option.doc}"`);
      assert.ok(comments.includes(option.env), `the example does not mention ${option.env}`);
      if (option.flag !== undefined)
        assert.ok(comments.includes(`--${option.flag}`), `missing --${option.flag}`);
    }
  });
});
