/**
 * The systemd units in deploy/ pass `systemd-analyze verify` with no message at all (vigo-envoy.service
 * may only draw the documented notes about RestartSteps/RestartMaxDelaySec on systemd older than 254),
 * vigosrv.service keeps its hardening exposure low (`systemd-analyze security --offline`), and the flags
 * its ExecStart passes are flags vigosrv accepts. The executables the units name are pointed at this
 * checkout's bin/ for the check. Skipped, saying why, without systemd-analyze unless
 * VIGO_REQUIRE_DEPLOY_TOOLS=1. As root, the sysusers and tmpfiles files are applied to a temporary root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { makeTempDir, repoRoot, vigosrvBin } from '../helpers/server-process.ts';
import { rootSkipReason, toolsSkipReason } from './tools.ts';

const run = promisify(execFile);
const skip = toolsSkipReason({ 'systemd-analyze': 'systemd' });
const temp = makeTempDir('vigo-units-');
after(() => temp.remove());

interface Outcome {
  readonly code: number;
  readonly output: string;
}

async function analyze(args: readonly string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', [...args], {
      env: { ...process.env, SYSTEMD_COLORS: '0' },
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** deploy/NAME with its executables pointed at this checkout, written to the temp dir. */
function localCopy(name: string, replacements: Readonly<Record<string, string>>): string {
  let text = readFileSync(join(repoRoot, 'deploy', name), 'utf8');
  for (const [from, to] of Object.entries(replacements)) {
    assert.ok(text.includes(from), `${name} names ${from}`);
    text = text.replaceAll(from, to);
  }
  const file = join(temp.path, name);
  writeFileSync(file, text);
  return file;
}

function directive(unitText: string, key: string): string[] {
  return unitText
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('deploy/ systemd units', { skip }, () => {
  it('vigosrv.service verifies with no message', async () => {
    const file = localCopy('vigosrv.service', { '/opt/vigo/bin/vigosrv': vigosrvBin });
    const outcome = await analyze(['verify', file]);
    assert.equal(outcome.output.trim(), '');
    assert.equal(outcome.code, 0);
  });

  it('vigosrv.service is Type=notify, unprivileged and hardened', async () => {
    const text = readFileSync(join(repoRoot, 'deploy', 'vigosrv.service'), 'utf8');
    assert.deepEqual(directive(text, 'Type'), ['notify']);
    assert.deepEqual(directive(text, 'NotifyAccess'), ['all']);
    assert.deepEqual(directive(text, 'User'), ['vigo']);
    assert.deepEqual(directive(text, 'CapabilityBoundingSet'), ['']);
    assert.deepEqual(directive(text, 'ReadWritePaths'), ['/srv/vigo']);
    for (const key of ['NoNewPrivileges', 'PrivateTmp']) assert.deepEqual(directive(text, key), ['yes']);
    assert.deepEqual(directive(text, 'ProtectSystem'), ['strict']);
    const file = localCopy('vigosrv.service', { '/opt/vigo/bin/vigosrv': vigosrvBin });
    // Exposure is 0 (locked down) to 10 (unprotected); --threshold fails the command above 2.5.
    const outcome = await analyze(['security', '--offline=yes', '--threshold=25', '--no-pager', file]);
    assert.equal(outcome.code, 0, outcome.output);
    assert.match(outcome.output, /Overall exposure level for vigosrv\.service: [0-2]\.\d/);
  });

  it("vigosrv.service's ExecStart passes flags vigosrv accepts", async () => {
    const text = readFileSync(join(repoRoot, 'deploy', 'vigosrv.service'), 'utf8');
    const [execStart] = directive(text, 'ExecStart');
    assert.ok(execStart !== undefined);
    const [binary, ...flags] = execStart.split(/\s+/);
    assert.equal(binary, '/opt/vigo/bin/vigosrv');
    // Flags are parsed before --version is acted on: an unknown flag exits 78 instead.
    const { stdout } = await run(vigosrvBin, [...flags, '--version']);
    assert.match(stdout, /^vigosrv /);
  });

  it('vigo-envoy.service verifies (RestartSteps notes only on systemd < 254)', async () => {
    const vigoBin = join(repoRoot, 'bin', 'vigo');
    const file = localCopy('vigo-envoy.service', { '/usr/local/bin/vigo': vigoBin });
    const outcome = await analyze(['verify', file]);
    const { stdout } = await run('systemd-analyze', ['--version']);
    const version = Number(/systemd (\d+)/.exec(stdout)?.[1]);
    const lines = outcome.output.split('\n').filter((line) => line.trim() !== '');
    const tolerated = version < 254 ? /Unknown key '(RestartSteps|RestartMaxDelaySec)'/ : /^$/;
    assert.deepEqual(
      lines.filter((line) => !tolerated.test(line)),
      [],
    );
    assert.equal(outcome.code, 0);
  });

  it(
    'vigo.sysusers.conf creates the vigo user and vigosrv.tmpfiles.conf its private /srv/vigo',
    { skip: rootSkipReason() },
    async () => {
      const root = join(temp.path, 'root');
      mkdirSync(join(root, 'etc'), { recursive: true });
      await run('systemd-sysusers', [`--root=${root}`, join(repoRoot, 'deploy', 'vigo.sysusers.conf')]);
      const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8');
      const user = /^vigo:x:(\d+):(\d+):[^:]*:\/srv\/vigo:\/usr\/sbin\/nologin$/m.exec(passwd);
      assert.ok(user, passwd);
      assert.ok(Number(user[1]) < 1000, 'a system user');
      await run('systemd-tmpfiles', [
        `--root=${root}`,
        '--create',
        join(repoRoot, 'deploy', 'vigosrv.tmpfiles.conf'),
      ]);
      const dir = statSync(join(root, 'srv', 'vigo'));
      assert.equal(dir.mode & 0o777, 0o700);
      assert.equal(dir.uid, Number(user[1]));
      assert.equal(dir.gid, Number(user[2]));
    },
  );
});
