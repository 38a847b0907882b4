import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VigoError } from '../core/index.ts';
import { configKeys, configRegistry, loadConfig, reloadConfig, reloadableKeys } from './index.ts';
import type { ConfigKey, LoadInput } from './index.ts';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** server.yaml text setting one dotted key (section.leaf) to a YAML value. */
function yamlFor(key: string, value: string): string {
  const parts = key.split('.');
  return parts
    .map((part, i) => `${'  '.repeat(i)}${part}:${i === parts.length - 1 ? ` ${value}` : ''}\n`)
    .join('');
}

function loadError(input: LoadInput): VigoError {
  try {
    loadConfig(input);
  } catch (err) {
    assert.ok(err instanceof VigoError, `expected a VigoError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

interface Dirs {
  readonly fileDir: string;
  readonly cwd: string;
}

interface Sample {
  readonly file: readonly [string, (d: Dirs) => unknown];
  readonly env: readonly [string, (d: Dirs) => unknown];
  readonly flag: readonly [string, (d: Dirs) => unknown];
}

const fixed = (value: unknown) => (): unknown => value;

/** One file, env and flag value per key; a new option fails to compile here until it gets samples. */
const samples: Record<ConfigKey, Sample> = {
  'server.grpc_listen': {
    file: ["'127.0.0.1:1600'", fixed({ host: '127.0.0.1', port: 1600 })],
    env: ['[::1]:1601', fixed({ host: '::1', port: 1601 })],
    flag: [':0', fixed({ host: '', port: 0 })],
  },
  'server.api_listen': {
    file: ["'localhost:9443'", fixed({ host: 'localhost', port: 9443 })],
    env: [':9444', fixed({ host: '', port: 9444 })],
    flag: ['0.0.0.0:9445', fixed({ host: '0.0.0.0', port: 9445 })],
  },
  'server.grpc_advertise': {
    file: ["'grpc.example.net:443'", fixed('grpc.example.net:443')],
    env: ['[2001:db8::1]', fixed('[2001:db8::1]')],
    flag: ['', fixed(undefined)],
  },
  'server.hostname': {
    file: ['vigo-file.example', fixed('vigo-file.example')],
    env: ['vigo-env.example', fixed('vigo-env.example')],
    flag: ['', fixed(undefined)],
  },
  'server.tls_sans': {
    file: ["['a.example', '10.1.1.1']", fixed(['a.example', '10.1.1.1'])],
    env: ['b.example, ::1', fixed(['b.example', '::1'])],
    flag: ['', fixed(undefined)],
  },
  'server.data_dir': {
    file: ['data', (d) => path.join(d.fileDir, 'data')],
    env: ['env-data', (d) => path.join(d.cwd, 'env-data')],
    flag: ['/var/lib/vigo-flag', fixed('/var/lib/vigo-flag')],
  },
  'server.stacks_dir': {
    file: ['../stacks', (d) => path.join(path.dirname(d.fileDir), 'stacks')],
    env: ['/opt/stacks', fixed('/opt/stacks')],
    flag: ['flag-stacks', (d) => path.join(d.cwd, 'flag-stacks')],
  },
  'log.level': {
    file: ['debug', fixed('debug')],
    env: ['warn', fixed('warn')],
    flag: ['error', fixed('error')],
  },
  'log.format': {
    file: ['text', fixed('text')],
    env: ['json', fixed('json')],
    flag: ['text', fixed('text')],
  },
  'log.access': {
    file: ["'on'", fixed('on')],
    env: ['off', fixed('off')],
    flag: ['', fixed(undefined)],
  },
  'server.tls_handshake_timeout': {
    file: ["'5s'", fixed(5_000)],
    env: ['20s', fixed(20_000)],
    flag: ['', fixed(undefined)],
  },
  'http.max_connections_per_address': {
    file: ['64', fixed(64)],
    env: ['1000', fixed(1000)],
    flag: ['', fixed(undefined)],
  },
  'http.first_request_timeout': {
    file: ["'15s'", fixed(15_000)],
    env: ['1m', fixed(60_000)],
    flag: ['', fixed(undefined)],
  },
  'grpc.max_handshakes_per_address': {
    file: ['32', fixed(32)],
    env: ['512', fixed(512)],
    flag: ['', fixed(undefined)],
  },
  'grpc.connection_idle_timeout': {
    file: ["'30s'", fixed(30_000)],
    env: ['10m', fixed(600_000)],
    flag: ['', fixed(undefined)],
  },
  'grpc.max_concurrent_streams': {
    file: ['16', fixed(16)],
    env: ['200', fixed(200)],
    flag: ['', fixed(undefined)],
  },
  'shutdown.budget': {
    file: ["'30s'", fixed(30_000)],
    env: ['1m', fixed(60_000)],
    flag: ['', fixed(undefined)],
  },
  'checkin.interval': {
    file: ['1m', fixed(60_000)],
    env: ['90s', fixed(90_000)],
    flag: ['', fixed(undefined)],
  },
  'checkin.bundle_max_age': {
    file: ['0', fixed(0)],
    env: ['168h', fixed(604_800_000)],
    flag: ['', fixed(undefined)],
  },
  'checkin.observe_only': {
    file: ['true', fixed(true)],
    env: ['off', fixed(false)],
    flag: ['', fixed(undefined)],
  },
  'checkin.clock_skew': {
    file: ['30s', fixed(30_000)],
    env: ['2m', fixed(120_000)],
    flag: ['', fixed(undefined)],
  },
  'checkin.connection': {
    file: ['poll', fixed('poll')],
    env: ['held', fixed('held')],
    flag: ['', fixed(undefined)],
  },
  'checkin.workers': {
    file: ['2', fixed(2)],
    env: ['1', fixed(1)],
    flag: ['', fixed(undefined)],
  },
  'checkin.stream_idle_release': {
    file: ["'30s'", fixed(30_000)],
    env: ['5m', fixed(300_000)],
    flag: ['', fixed(undefined)],
  },
  'checkin.stale_factor': {
    file: ['3', fixed(3)],
    env: ['1.5', fixed(1.5)],
    flag: ['', fixed(undefined)],
  },
  'fleet.convergence_threshold': {
    file: ['90', fixed(90)],
    env: ['100', fixed(100)],
    flag: ['', fixed(undefined)],
  },
  'fleet.flush_interval': {
    file: ['10s', fixed(10_000)],
    env: ['500ms', fixed(500)],
    flag: ['', fixed(undefined)],
  },
  'database.busy_timeout': {
    file: ['0', fixed(0)],
    env: ['10s', fixed(10_000)],
    flag: ['', fixed(undefined)],
  },
  'database.retention.runs': {
    file: ['0', fixed(0)],
    env: ['7d', fixed(604_800_000)],
    flag: ['', fixed(undefined)],
  },
  'database.retention.tasks': {
    file: ['0', fixed(0)],
    env: ['1h', fixed(3_600_000)],
    flag: ['', fixed(undefined)],
  },
  'database.retention.workflows': {
    file: ['0', fixed(0)],
    env: ['2d', fixed(172_800_000)],
    flag: ['', fixed(undefined)],
  },
  'database.retention.convergence_history': {
    file: ['0', fixed(0)],
    env: ['12h', fixed(43_200_000)],
    flag: ['', fixed(undefined)],
  },
  'database.retention.deliveries': {
    file: ['0', fixed(0)],
    env: ['30m', fixed(1_800_000)],
    flag: ['', fixed(undefined)],
  },
  'database.prune_interval': {
    file: ["'6h'", fixed(21_600_000)],
    env: ['1h', fixed(3_600_000)],
    flag: ['', fixed(undefined)],
  },
  'http.max_body_bytes': {
    file: ['2048', fixed(2048)],
    env: ['4096', fixed(4096)],
    flag: ['', fixed(undefined)],
  },
  'http.max_body_bytes_in_flight_per_client': {
    file: ['65536', fixed(65536)],
    env: ['131072', fixed(131072)],
    flag: ['', fixed(undefined)],
  },
  'http.max_body_bytes_in_flight': {
    file: ['262144', fixed(262144)],
    env: ['524288', fixed(524288)],
    flag: ['', fixed(undefined)],
  },
  'publish.approval': {
    file: ['required', fixed('required')],
    env: ['none', fixed('none')],
    flag: ['', fixed(undefined)],
  },
  'metrics.compliance_per_envoy': {
    file: ['true', fixed(true)],
    env: ['false', fixed(false)],
    flag: ['', fixed(undefined)],
  },
  'exports.oscal': {
    file: ['true', fixed(true)],
    env: ['false', fixed(false)],
    flag: ['', fixed(undefined)],
  },
  'publish.at_start': {
    file: ['true', fixed(true)],
    env: ['false', fixed(false)],
    flag: ['true', fixed(true)],
  },
  'publish.max_upload_bytes': {
    file: ['2048', fixed(2048)],
    env: ['4096', fixed(4096)],
    flag: ['', fixed(undefined)],
  },
  'publish.validate_timeout': {
    file: ["'90s'", fixed(90_000)],
    env: ['2m', fixed(120_000)],
    flag: ['', fixed(undefined)],
  },
  'publish.validate_max_heap_mb': {
    file: ['512', fixed(512)],
    env: ['256', fixed(256)],
    flag: ['', fixed(undefined)],
  },
  'publish.validate_queue': {
    file: ['2', fixed(2)],
    env: ['0', fixed(0)],
    flag: ['', fixed(undefined)],
  },
  'publish.url_check.enabled': {
    file: ['false', fixed(false)],
    env: ['true', fixed(true)],
    flag: ['', fixed(undefined)],
  },
  'publish.url_check.timeout': {
    file: ["'2s'", fixed(2_000)],
    env: ['10s', fixed(10_000)],
    flag: ['', fixed(undefined)],
  },
  'publish.url_check.concurrency': {
    file: ['4', fixed(4)],
    env: ['16', fixed(16)],
    flag: ['', fixed(undefined)],
  },
  'publish.url_check.budget': {
    file: ["'1m'", fixed(60_000)],
    env: ['20s', fixed(20_000)],
    flag: ['', fixed(undefined)],
  },
  'publish.protected_paths': {
    file: ["['/opt/backup', '/etc/ssh']", fixed(['/opt/backup', '/etc/ssh'])],
    env: ['/srv/keep, /etc/keep', fixed(['/srv/keep', '/etc/keep'])],
    flag: ['', fixed(undefined)],
  },
  'publish.blast_radius.min_convergence_pct': {
    file: ['80', fixed(80)],
    env: ['0', fixed(0)],
    flag: ['', fixed(undefined)],
  },
  'publish.blast_radius.window': {
    file: ["'10m'", fixed(600_000)],
    env: ['1h', fixed(3_600_000)],
    flag: ['', fixed(undefined)],
  },
  'publish.blast_radius.min_envoys': {
    file: ['5', fixed(5)],
    env: ['1', fixed(1)],
    flag: ['', fixed(undefined)],
  },
  'exports.siem': {
    file: ['true', fixed(true)],
    env: ['false', fixed(false)],
    flag: ['', fixed(undefined)],
  },
  'exports.cmdb': {
    file: ['true', fixed(true)],
    env: ['false', fixed(false)],
    flag: ['', fixed(undefined)],
  },
  'auth.session_idle_timeout': {
    file: ["'15m'", fixed(900_000)],
    env: ['0s', fixed(0)],
    flag: ['', fixed(undefined)],
  },
  'audit.checkpoint_interval': {
    file: ["'15m'", fixed(900_000)],
    env: ['0', fixed(0)],
    flag: ['', fixed(undefined)],
  },
  'audit.checkpoint_file': {
    file: ['checkpoints.jsonl', (d) => path.join(d.fileDir, 'checkpoints.jsonl')],
    env: ['/mnt/audit/cp.jsonl', fixed('/mnt/audit/cp.jsonl')],
    flag: ['', fixed(undefined)],
  },
  'audit.checkpoint_webhook': {
    file: ["'https://anchor.example/checkpoints'", fixed('https://anchor.example/checkpoints')],
    env: ['http://127.0.0.1:9000/cp', fixed('http://127.0.0.1:9000/cp')],
    flag: ['', fixed(undefined)],
  },
  'backup.schedule': {
    file: ["'6h'", fixed(21_600_000)],
    env: ['off', fixed(0)],
    flag: ['', fixed(undefined)],
  },
  'backup.dir': {
    file: ['backups', (d) => path.join(d.fileDir, 'backups')],
    env: ['/mnt/backups', fixed('/mnt/backups')],
    flag: ['', fixed(undefined)],
  },
  'backup.keep': {
    file: ['14', fixed(14)],
    env: ['3', fixed(3)],
    flag: ['', fixed(undefined)],
  },
  'backup.recipient': {
    file: [
      'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
      fixed('age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'),
    ],
    env: [
      'age1unrs5rwu6s0vlxqqujcd5tzztm60gwt6677lqn4sycmkfpelrdysmupsqd',
      fixed('age1unrs5rwu6s0vlxqqujcd5tzztm60gwt6677lqn4sycmkfpelrdysmupsqd'),
    ],
    flag: ['', fixed(undefined)],
  },
  integrations: {
    file: [
      '[{name: ops, type: syslog, host: 127.0.0.1, transport: tcp, ca_file: ca.pem}]',
      (d) => [syslogTarget('127.0.0.1', path.join(d.fileDir, 'ca.pem'))],
    ],
    env: [
      '[{"name":"ops","type":"syslog","host":"10.0.0.1","transport":"tcp","ca_file":"ca.pem"}]',
      (d) => [syslogTarget('10.0.0.1', path.join(d.cwd, 'ca.pem'))],
    ],
    flag: ['', fixed(undefined)],
  },
  'replication.role': {
    file: ['standby', fixed('standby')],
    env: ['primary', fixed('primary')],
    flag: ['', fixed(undefined)],
  },
  'replication.name': {
    file: ['east-1', fixed('east-1')],
    env: ['west.2', fixed('west.2')],
    flag: ['', fixed(undefined)],
  },
  'replication.listen': {
    file: ["'127.0.0.1:1631'", fixed({ host: '127.0.0.1', port: 1631 })],
    env: [':1632', fixed({ host: '', port: 1632 })],
    flag: ['', fixed(undefined)],
  },
  'replication.interval': {
    file: ['2s', fixed(2000)],
    env: ['500ms', fixed(500)],
    flag: ['', fixed(undefined)],
  },
  'replication.timeout': {
    file: ['1m', fixed(60_000)],
    env: ['15s', fixed(15_000)],
    flag: ['', fixed(undefined)],
  },
  peers: {
    file: [
      "[{name: b, address: 'b.example:1531', agent_address: 'b.example:1530', fingerprint: 'sha256:abababababababababababababababababababababababababababababababab'}]",
      fixed([
        {
          name: 'b',
          address: { host: 'b.example', port: 1531 },
          agentAddress: 'b.example:1530',
          fingerprint: 'sha256:abababababababababababababababababababababababababababababababab',
        },
      ]),
    ],
    env: [
      '[{"name":"c","address":"10.0.0.3:1531","agent_address":"10.0.0.3:1530","fingerprint":"sha256:abababababababababababababababababababababababababababababababab"}]',
      fixed([
        {
          name: 'c',
          address: { host: '10.0.0.3', port: 1531 },
          agentAddress: '10.0.0.3:1530',
          fingerprint: 'sha256:abababababababababababababababababababababababababababababababab',
        },
      ]),
    ],
    flag: ['', fixed(undefined)],
  },
};

function syslogTarget(host: string, caFile: string): Record<string, unknown> {
  return {
    name: 'ops',
    events: ['*'],
    minSeverity: 'info',
    maxAttempts: 8,
    maxQueue: 10_000,
    concurrency: 2,
    timeoutMs: 10_000,
    backoffInitialMs: 5_000,
    backoffMaxMs: 3_600_000,
    type: 'syslog',
    host,
    port: 6514,
    transport: 'tcp',
    caFile,
    facility: 'daemon',
    appName: 'vigosrv',
    hostname: undefined,
    batchSize: 100,
  };
}

describe('precedence: default < server.yaml < environment < flag', () => {
  for (const key of configKeys) {
    it(key, (t) => {
      const root = tempDir(t);
      const fileDir = path.join(root, 'etc');
      const cwd = path.join(root, 'work');
      fs.mkdirSync(fileDir);
      fs.mkdirSync(cwd);
      const dirs = { fileDir, cwd };
      const option = configRegistry[key];
      const sample = samples[key];
      const file = path.join(fileDir, 'server.yaml');
      fs.writeFileSync(file, yamlFor(key, sample.file[0]));
      const base = { cwd, systemDir: path.join(root, 'srv') };

      const defaults = loadConfig({ ...base, argv: [], env: {} });
      assert.equal(defaults.sources[key], 'default');

      const fromFile = loadConfig({ ...base, argv: ['--config', file], env: {} });
      assert.equal(fromFile.sources[key], 'file');
      assert.deepEqual(fromFile.config[key], sample.file[1](dirs));

      const env = { [option.env]: sample.env[0] };
      const fromEnv = loadConfig({ ...base, argv: ['--config', file], env });
      assert.equal(fromEnv.sources[key], 'env');
      assert.deepEqual(fromEnv.config[key], sample.env[1](dirs));

      if (option.flag === undefined) return;
      const fromFlag = loadConfig({
        ...base,
        argv: ['--config', file, `--${option.flag}=${sample.flag[0]}`],
        env,
      });
      assert.equal(fromFlag.sources[key], 'flag');
      assert.deepEqual(fromFlag.config[key], sample.flag[1](dirs));
    });
  }
});

describe('modes and defaults', () => {
  it('user mode is the default and keeps data in ./.vigo under the cwd', () => {
    const loaded = loadConfig({ argv: [], env: {}, cwd: '/home/op/project' });
    assert.equal(loaded.mode, 'user');
    assert.equal(loaded.config['server.data_dir'], '/home/op/project/.vigo');
    assert.equal(loaded.configFile, undefined);
    assert.deepEqual(loaded.config['server.grpc_listen'], { host: '', port: 1530 });
    assert.equal(loaded.config['checkin.interval'], 300_000);
    assert.equal(loaded.config['server.hostname'], os.hostname());
  });

  it('user mode honours an absolute XDG_DATA_HOME and ignores empty or relative ones', () => {
    const at = (xdg: string): string =>
      loadConfig({ argv: [], env: { XDG_DATA_HOME: xdg }, cwd: '/w' }).config['server.data_dir'];
    assert.equal(at('/home/op/.local/share'), '/home/op/.local/share/vigo');
    assert.equal(at(''), '/w/.vigo');
    assert.equal(at('relative/share'), '/w/.vigo');
  });

  it('--system or VIGO_SYSTEM=1 selects system mode with data in /srv/vigo', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(file, '');
    // An explicit --config keeps the real /srv/vigo/server.yaml out of the test.
    for (const input of [
      { argv: ['--system', '--config', file], env: {} },
      { argv: ['--config', file], env: { VIGO_SYSTEM: '1' } },
    ]) {
      const loaded = loadConfig({ ...input, cwd: dir });
      assert.equal(loaded.mode, 'system');
      assert.equal(loaded.config['server.data_dir'], '/srv/vigo');
    }
    assert.equal(loadConfig({ argv: [], env: { VIGO_SYSTEM: '0' }, cwd: dir }).mode, 'user');
  });

  it('system mode reads <systemDir>/server.yaml only when it exists', (t) => {
    const systemDir = tempDir(t);
    const none = loadConfig({ argv: ['--system'], env: {}, cwd: '/', systemDir });
    assert.equal(none.configFile, undefined);
    assert.equal(none.config['server.data_dir'], systemDir);
    fs.writeFileSync(path.join(systemDir, 'server.yaml'), 'log:\n  level: warn\n');
    const found = loadConfig({ argv: ['--system'], env: {}, cwd: '/', systemDir });
    assert.equal(found.configFile, path.join(systemDir, 'server.yaml'));
    assert.equal(found.config['log.level'], 'warn');
    const user = loadConfig({ argv: [], env: {}, cwd: '/', systemDir });
    assert.equal(user.configFile, undefined, 'user mode never reads the system file implicitly');
  });

  it('VIGO_CONFIG_FILE names the file, relative to the cwd; --config wins over it', (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'log:\n  level: debug\n');
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'log:\n  level: error\n');
    const fromEnv = loadConfig({ argv: [], env: { VIGO_CONFIG_FILE: 'a.yaml' }, cwd: dir });
    assert.equal(fromEnv.configFile, path.join(dir, 'a.yaml'));
    assert.equal(fromEnv.config['log.level'], 'debug');
    const fromFlag = loadConfig({ argv: ['--config=b.yaml'], env: { VIGO_CONFIG_FILE: 'a.yaml' }, cwd: dir });
    assert.equal(fromFlag.config['log.level'], 'error');
  });

  it('a missing explicit config file is config.invalid naming the path', (t) => {
    const dir = tempDir(t);
    const err = loadError({ argv: ['--config', 'missing.yaml'], env: {}, cwd: dir });
    assert.equal(err.code, 'config.invalid');
    assert.match(err.message, new RegExp(`${path.join(dir, 'missing.yaml')} \\(ENOENT\\)`));
  });

  it('refuses a relative or root-only publish.protected_paths entry, naming it', () => {
    for (const bad of ['relative/path', '/']) {
      const err = loadError({ argv: [], env: { VIGO_PUBLISH_PROTECTED_PATHS: bad }, cwd: '/' });
      assert.equal(err.code, 'config.wrong_type');
      assert.match(err.message, /VIGO_PUBLISH_PROTECTED_PATHS/);
      assert.match(err.message, /absolute path/);
    }
  });

  it('--notify-fd and VIGO_NOTIFY_FD give the readiness fd; the flag wins', () => {
    assert.equal(loadConfig({ argv: [], env: {}, cwd: '/' }).notifyFd, undefined);
    assert.equal(loadConfig({ argv: [], env: { VIGO_NOTIFY_FD: '3' }, cwd: '/' }).notifyFd, 3);
    assert.equal(
      loadConfig({ argv: ['--notify-fd', '5'], env: { VIGO_NOTIFY_FD: '3' }, cwd: '/' }).notifyFd,
      5,
    );
    const err = loadError({ argv: ['--notify-fd=x'], env: {}, cwd: '/' });
    assert.equal(err.code, 'config.wrong_type');
    assert.match(err.message, /flag --notify-fd: expected a file descriptor number/);
  });

  it('--help and --version load defaults even when the environment is broken', () => {
    const env = { VIGO_CHECKIN_INTERVAL: 'soon', VIGO_CONFIG_FILE: '/nonexistent/server.yaml' };
    const help = loadConfig({ argv: ['--help'], env, cwd: '/' });
    assert.equal(help.help, true);
    assert.equal(help.config['checkin.interval'], 300_000);
    assert.equal(loadConfig({ argv: ['--version'], env, cwd: '/' }).version, true);
    assert.equal(loadConfig({ argv: ['-h'], env, cwd: '/' }).help, true);
  });
});

describe('environment', () => {
  it('a bad VIGO_* value is config.wrong_type naming the variable and the value', () => {
    const err = loadError({ argv: [], env: { VIGO_CHECKIN_INTERVAL: '5' }, cwd: '/' });
    assert.equal(err.code, 'config.wrong_type');
    assert.match(
      err.message,
      /environment variable VIGO_CHECKIN_INTERVAL: checkin\.interval: expected a duration/,
    );
    assert.match(err.message, /"5"/);
  });

  it('reports every bad variable at once', () => {
    const env = { VIGO_GRPC_LISTEN: ':70000', VIGO_LOG_LEVEL: 'loud', VIGO_SYSTEM: 'perhaps' };
    const err = loadError({ argv: [], env, cwd: '/' });
    const names = (err.details['problems'] as { name?: string }[]).map((p) => p.name).sort();
    assert.deepEqual(names, ['VIGO_GRPC_LISTEN', 'VIGO_LOG_LEVEL', 'VIGO_SYSTEM']);
    assert.match(err.message, /3 problems/);
    assert.match(err.message, /port 70000 is outside 0-65535/);
  });

  it('ignores unknown VIGO_* variables and treats empty ones as unset', () => {
    const loaded = loadConfig({ argv: [], env: { VIGO_NOT_AN_OPTION: 'x', VIGO_LOG_LEVEL: '' }, cwd: '/' });
    assert.equal(loaded.config['log.level'], 'info');
    assert.equal(loaded.sources['log.level'], 'default');
  });

  it('a connection mode other than held or poll is config.wrong_type naming the key', (t) => {
    const err = loadError({ argv: [], env: { VIGO_CHECKIN_CONNECTION: 'hold' }, cwd: '/' });
    assert.equal(err.code, 'config.wrong_type');
    assert.match(
      err.message,
      /environment variable VIGO_CHECKIN_CONNECTION: checkin\.connection: expected one of held, poll/,
    );
    const dir = tempDir(t);
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(file, 'checkin:\n  connection: always\n');
    const fromFile = loadError({ argv: ['--config', file], env: {}, cwd: dir });
    assert.equal(fromFile.code, 'config.wrong_type');
    assert.match(
      fromFile.message,
      /server\.yaml:2:15: checkin\.connection: expected one of held, poll, got "always"/,
    );
  });

  it('a checkpoint webhook must be an http(s) URL', () => {
    for (const url of ['ftp://anchor.example/x', 'anchor.example/x', 'https://anchor.example/#frag']) {
      const err = loadError({ argv: [], env: { VIGO_AUDIT_CHECKPOINT_WEBHOOK: url }, cwd: '/' });
      assert.equal(err.code, 'config.wrong_type');
      assert.match(err.message, /audit\.checkpoint_webhook: expected an http:\/\/ or https:\/\/ URL/);
    }
  });

  it('a bad flag value is config.wrong_type naming the flag', () => {
    const err = loadError({ argv: ['--grpc-listen', 'nope'], env: {}, cwd: '/' });
    assert.equal(err.code, 'config.wrong_type');
    assert.match(err.message, /^flag --grpc-listen: server\.grpc_listen: expected a listen address/);
  });
});

describe('reloadConfig', () => {
  it('applies reloadable keys and keeps the running value of the others', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(file, 'log:\n  level: info\nserver:\n  api_listen: ":8443"\n');
    const input = { argv: ['--config', file], env: {}, cwd: dir };
    const first = loadConfig(input);
    fs.writeFileSync(
      file,
      'log:\n  level: debug\nserver:\n  api_listen: ":9443"\ncheckin:\n  interval: 1m\n',
    );
    const reload = reloadConfig(first, input);
    assert.deepEqual([...reload.applied].sort(), ['checkin.interval', 'log.level']);
    assert.deepEqual(reload.restartRequired, ['server.api_listen']);
    assert.equal(reload.loaded.config['log.level'], 'debug');
    assert.equal(reload.loaded.config['checkin.interval'], 60_000);
    assert.equal(reload.loaded.config['server.api_listen'].port, 8443);
  });

  it('throws on an invalid file so the caller keeps the running configuration', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(file, '');
    const input = { argv: ['--config', file], env: {}, cwd: dir };
    const first = loadConfig(input);
    fs.writeFileSync(file, 'checkin:\n  interval: 5\n');
    assert.throws(() => reloadConfig(first, input), { code: 'config.wrong_type' });
  });

  it('reloadable keys are log.level, log.access, checkin.* but checkin.workers, fleet.flush_interval, fleet.convergence_threshold, publish.approval, publish.validate_*, publish.url_check.*, publish.protected_paths, publish.blast_radius.*, database.retention.*, database.prune_interval, auth.session_idle_timeout, exports.* and backup.*', () => {
    const expected = configKeys.filter(
      (k) =>
        k === 'log.level' ||
        k === 'log.access' ||
        (k.startsWith('checkin.') && k !== 'checkin.workers') ||
        k === 'fleet.flush_interval' ||
        k === 'fleet.convergence_threshold' ||
        k === 'publish.approval' ||
        k.startsWith('publish.validate_') ||
        k.startsWith('publish.url_check.') ||
        k === 'publish.protected_paths' ||
        k.startsWith('publish.blast_radius.') ||
        k.startsWith('exports.') ||
        k.startsWith('database.retention.') ||
        k === 'database.prune_interval' ||
        k === 'auth.session_idle_timeout' ||
        k.startsWith('backup.'),
    );
    assert.deepEqual([...reloadableKeys].sort(), [...expected].sort());
  });
});

describe('registry', () => {
  it('env names and flags are unique and env names start with VIGO_', () => {
    const envs = configKeys.map((k) => configRegistry[k].env);
    assert.equal(new Set(envs).size, envs.length);
    for (const env of envs) assert.match(env, /^VIGO_[A-Z0-9_]+$/);
    const flags = configKeys.flatMap((k) => configRegistry[k].flag ?? []);
    assert.equal(new Set(flags).size, flags.length);
  });
});
