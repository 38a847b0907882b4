import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configKeys, configRegistry, loadConfig, renderHelp, resolvePaths } from './index.ts';

describe('resolvePaths', () => {
  it('lays out the data dir, with stacks under it by default', () => {
    const { config } = loadConfig({ argv: ['--data-dir', 'state'], env: {}, cwd: '/work' });
    assert.deepEqual(resolvePaths(config), {
      dataDir: '/work/state',
      dbFile: '/work/state/db/vigo.db',
      tlsDir: '/work/state/tls',
      lockFile: '/work/state/vigosrv.lock',
      stacksDir: '/work/state/stacks',
      secretsDir: '/work/state/secrets',
      localAdminTokenFile: '/work/state/local-admin.token',
      auditCheckpointFile: '/work/state/audit-checkpoints.jsonl',
    });
  });

  it('uses an explicit audit checkpoint file as given', () => {
    const env = { VIGO_AUDIT_CHECKPOINT_FILE: '/mnt/anchor/cp.jsonl' };
    const { config } = loadConfig({ argv: ['--data-dir', 'state'], env, cwd: '/work' });
    assert.equal(resolvePaths(config).auditCheckpointFile, '/mnt/anchor/cp.jsonl');
  });

  it('uses an explicit stacks dir as given', () => {
    const { config } = loadConfig({ argv: ['--stacks', '../policies'], env: {}, cwd: '/work/app' });
    const paths = resolvePaths(config);
    assert.equal(paths.stacksDir, '/work/policies');
    assert.equal(paths.dataDir, '/work/app/.vigo');
  });
});

describe('renderHelp', () => {
  it('lists every option with its env name, default and doc, and every flag', () => {
    const help = renderHelp();
    for (const key of configKeys) {
      const option = configRegistry[key];
      assert.ok(help.includes(`  ${key} (`), `help lacks ${key}`);
      assert.ok(help.includes(option.env), `help lacks ${option.env}`);
      assert.ok(help.includes(option.doc), `help lacks the doc of ${key}`);
      assert.ok(help.includes(`default: ${option.defaultText}`), `help lacks the default of ${key}`);
      if (option.flag !== undefined && option.type === 'boolean') {
        assert.match(
          help,
          new RegExp(`--${option.flag} +Sets ${key.replace('.', '\\.')}\\.`),
          `${key} is a switch`,
        );
      } else if (option.flag !== undefined) assert.ok(help.includes(`--${option.flag} VALUE`));
    }
    for (const flag of ['--config FILE', '--system', '--notify-fd N', '--help', '--version']) {
      assert.ok(help.includes(flag), `help lacks ${flag}`);
    }
    assert.match(help, /log\.level .*\n.*\n.*reloads on SIGHUP/);
  });
});
