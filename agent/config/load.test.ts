/** The agent's config file: the commented example loads, defaults apply without a file, mistakes are named. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentConfigError, defaultAgentConfig, loadAgentConfig, parseAgentConfig } from './index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-agent-config-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('agent config', () => {
  it('loads the commented example, which states every default', () => {
    const file = new URL('./agent.example.yaml', import.meta.url).pathname;
    const config = loadAgentConfig(file, true);
    assert.equal(config.file, file);
    assert.deepEqual(config.tasks, defaultAgentConfig.tasks);
    assert.deepEqual(config.traits, defaultAgentConfig.traits);
  });

  it('reads traits.cert_paths and traits.cloud_metadata', () => {
    const config = parseAgentConfig(
      'traits:\n  cert_paths: [/etc/ssl/certs/web.pem, /etc/ssl/certs/web.pem]\n  cloud_metadata: true\n',
      't.yaml',
    );
    assert.deepEqual(config.traits, {
      certPaths: ['/etc/ssl/certs/web.pem', '/etc/ssl/certs/web.pem'],
      cloudMetadata: true,
    });
    assert.deepEqual(parseAgentConfig('traits:\n', 'e.yaml').traits, { certPaths: [], cloudMetadata: false });
  });

  it('uses the defaults when the default file is missing, and refuses a missing file named explicitly', () => {
    const missing = path.join(dir, 'absent.yaml');
    assert.equal(loadAgentConfig(missing, false), defaultAgentConfig);
    assert.throws(() => loadAgentConfig(missing, true), /cannot read the agent config .*absent\.yaml/);
  });

  it('reads tasks.adhoc and tasks.allow; an empty file is the defaults', () => {
    const config = parseAgentConfig('tasks:\n  adhoc: false\n  allow: []\n', 'a.yaml');
    assert.equal(config.tasks.adhoc, false);
    assert.deepEqual([...config.tasks.allow], []);
    assert.deepEqual(parseAgentConfig('', 'e.yaml').tasks, defaultAgentConfig.tasks);
  });

  it('reads tasks.allow_forced, false unless set', () => {
    assert.equal(defaultAgentConfig.tasks.allowForced, false);
    assert.equal(parseAgentConfig('tasks:\n  allow_forced: true\n', 'f.yaml').tasks.allowForced, true);
    assert.throws(
      () => parseAgentConfig('tasks:\n  allow_forced: 1\n', 'f.yaml'),
      /^AgentConfigError: f\.yaml:2:17: tasks\.allow_forced must be true or false$/,
    );
  });

  it('names the file, line and key of each mistake', () => {
    const cases: [string, RegExp][] = [
      ['tasks:\n  adhoc: yes please\n', /^c\.yaml:2:10: tasks\.adhoc must be true or false$/],
      ['tasks:\n  adhoc: "true"\n', /tasks\.adhoc must be true or false/],
      ['tasks:\n  allow: vigo.converge\n', /^c\.yaml:2:10: tasks\.allow must be a list of task names$/],
      [
        'tasks:\n  allow: [vigo.converge, rm-rf]\n',
        /^c\.yaml:2:26: tasks\.allow names "rm-rf", which this agent does not know; it knows vigo\.converge, vigo\.traits$/,
      ],
      [
        'tasks:\n  adhoc: true\n  adhok: false\n',
        /^c\.yaml:3:3: unknown key tasks\.adhok; known: tasks\.adhoc, tasks\.allow, tasks\.stacks, tasks\.allow_forced$/,
      ],
      ['task:\n  adhoc: true\n', /^c\.yaml:1:1: unknown key task; known: tasks, traits$/],
      [
        'traits:\n  cert_path: []\n',
        /^c\.yaml:2:3: unknown key traits\.cert_path; known: traits\.cert_paths, traits\.cloud_metadata$/,
      ],
      [
        'traits:\n  cert_paths: [etc/ssl/a.pem]\n',
        /^c\.yaml:2:16: traits\.cert_paths holds something other than an absolute file path$/,
      ],
      ['traits:\n  cert_paths: /etc/ssl/a.pem\n', /traits\.cert_paths must be a list/],
      [
        `traits:\n  cert_paths: [${Array.from({ length: 65 }, (_, i) => `/c${i}`).join(', ')}]\n`,
        /lists 65 files; at most 64/,
      ],
      [
        'traits:\n  cloud_metadata: yes please\n',
        /^c\.yaml:2:19: traits\.cloud_metadata must be true or false$/,
      ],
      ['- a\n', /the file must be a mapping/],
      ['tasks: [\n', /^c\.yaml: not valid YAML/],
      ['tasks:\n  adhoc: true\n  adhoc: false\n', /not valid YAML/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => parseAgentConfig(text, 'c.yaml'),
        (err: unknown) => {
          assert.ok(err instanceof AgentConfigError);
          assert.match(err.message, message);
          return true;
        },
      );
  });

  it('refuses a file larger than 64 KiB before parsing it', () => {
    const big = path.join(dir, 'big.yaml');
    fs.writeFileSync(big, `# ${'x'.repeat(70_000)}\n`);
    assert.throws(() => loadAgentConfig(big, true), /an agent config file is at most 65536/);
  });
});
