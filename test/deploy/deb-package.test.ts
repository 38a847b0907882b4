/**
 * npm run package:deb: builds vigo-agent_<version>_all.deb with dpkg-deb; the package's control data,
 * file list and modes are as documented; the agent inside runs on its own (no node_modules); its unit
 * verifies; and, as root, dpkg installs it into a temporary root (--force-script-chrootless, so the
 * maintainer scripts see DPKG_ROOT) where an unenrolled host gets no enabled service, an enrolled one
 * does, removal disables it and keeps the state, and purge deletes the state. lintian finds no error
 * where it is installed. Skipped, saying why, without dpkg-deb unless VIGO_REQUIRE_DEPLOY_TOOLS=1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers/server-process.ts';
import { findTool, rootSkipReason, toolsSkipReason } from './tools.ts';

const run = promisify(execFile);
const skip = toolsSkipReason({ 'dpkg-deb': 'dpkg' });
const temp = makeTempDir('vigo-deb-');
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
const deb = join(temp.path, 'out', `vigo-agent_${version}_all.deb`);
const wants = 'etc/systemd/system/multi-user.target.wants/vigo-envoy.service';

after(() => temp.remove());

before(async () => {
  if (skip !== undefined) return;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'scripts', 'package-deb.ts'), '--output', join(temp.path, 'out')],
    // The maintainer field: a clean CI clone may have no git identity to take it from.
    { cwd: repoRoot, env: { ...process.env, DEBFULLNAME: 'Vigo-TS CI', DEBEMAIL: 'ci@vigo-ts.example' } },
  );
  assert.match(stdout, /package-deb: .*vigo-agent_.*_all\.deb/);
});

/** A fresh root holding only an empty dpkg database. */
function emptyRoot(name: string): string {
  const root = join(temp.path, name);
  mkdirSync(join(root, 'var', 'lib', 'dpkg', 'info'), { recursive: true });
  mkdirSync(join(root, 'var', 'lib', 'dpkg', 'updates'));
  writeFileSync(join(root, 'var', 'lib', 'dpkg', 'status'), '');
  return root;
}

/** dpkg on `root`, maintainer scripts run outside a chroot with DPKG_ROOT set; nodejs is not in that root. */
async function dpkg(root: string, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await run('dpkg', [
    `--root=${root}`,
    '--force-script-chrootless',
    '--force-depends',
    ...args,
  ]);
  return `${stdout}${stderr}`;
}

describe('the agent .deb (npm run package:deb)', { skip }, () => {
  it('has the control data of vigo-agent', async () => {
    const field = async (name: string): Promise<string> =>
      (await run('dpkg-deb', ['--field', deb, name])).stdout.trim();
    assert.equal(await field('Package'), 'vigo-agent');
    assert.equal(await field('Version'), version);
    assert.equal(await field('Architecture'), 'all');
    assert.equal(await field('Depends'), 'nodejs (>= 20.19)');
    const { stdout: info } = await run('dpkg-deb', ['--info', deb]);
    for (const script of ['postinst', 'prerm', 'postrm', 'md5sums'])
      assert.match(info, new RegExp(`\\s${script}\\s`));
  });

  it('installs the launcher, the bundled agent, the unit and /etc/vigo, owned by root', async () => {
    const { stdout } = await run('dpkg-deb', ['--contents', deb]);
    const entries = new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => {
          const parts = line.split(/\s+/);
          return [parts[5]!, { mode: parts[0]!, owner: parts[1]! }] as const;
        }),
    );
    const expected: Record<string, string> = {
      './usr/bin/vigo': '-rwxr-xr-x',
      './usr/lib/vigo/vigo.mjs': '-rw-r--r--',
      './usr/lib/systemd/system/vigo-envoy.service': '-rw-r--r--',
      './etc/vigo/': 'drwxr-xr-x',
      './usr/share/doc/vigo-agent/copyright': '-rw-r--r--',
      './usr/share/doc/vigo-agent/changelog.gz': '-rw-r--r--',
      './usr/share/doc/vigo-agent/agent.example.yaml': '-rw-r--r--',
    };
    for (const [file, mode] of Object.entries(expected)) {
      assert.equal(entries.get(file)?.mode, mode, file);
    }
    for (const [file, entry] of entries) assert.equal(entry.owner, 'root/root', file);
  });

  it('holds an agent that runs without the repository and a unit that starts it', async () => {
    const extracted = join(temp.path, 'extracted');
    await run('dpkg-deb', ['-x', deb, extracted]);
    // Run from the temp dir: no node_modules on the way up, so the bundle must be self-contained.
    const { stdout } = await run(process.execPath, [join(extracted, 'usr/lib/vigo/vigo.mjs'), 'version'], {
      cwd: temp.path,
    });
    assert.equal(stdout.trim(), `vigo ${version}`);
    assert.match(
      readFileSync(join(extracted, 'usr/bin/vigo'), 'utf8'),
      /^exec node .* \/usr\/lib\/vigo\/vigo\.mjs "\$@"$/m,
    );
    const unit = readFileSync(join(extracted, 'usr/lib/systemd/system/vigo-envoy.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/bin\/vigo daemon$/m);
    if (findTool('systemd-analyze') === undefined) return;
    const local = join(temp.path, 'vigo-envoy.service');
    writeFileSync(local, unit.replace('/usr/bin/vigo', join(extracted, 'usr/bin/vigo')));
    const verify = await run('systemd-analyze', ['verify', local]).catch((err: { stderr: string }) => err);
    const problems = verify.stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !/Unknown key '(RestartSteps|RestartMaxDelaySec)'/.test(line));
    assert.deepEqual(problems, []);
  });

  it(
    'installs into a root without enabling an unenrolled agent; enables an enrolled one; remove and purge',
    { skip: rootSkipReason() ?? toolsSkipReason({ dpkg: 'dpkg', systemctl: 'systemd' }) },
    async () => {
      const fresh = emptyRoot('fresh');
      const output = await dpkg(fresh, ['--install', deb]);
      assert.match(
        output,
        /this host is not enrolled, so vigo-envoy\.service was neither enabled nor started/,
      );
      assert.equal(existsSync(join(fresh, wants)), false, 'an unenrolled agent is not enabled');
      for (const file of [
        'usr/bin/vigo',
        'usr/lib/vigo/vigo.mjs',
        'usr/lib/systemd/system/vigo-envoy.service',
      ]) {
        assert.ok(existsSync(join(fresh, file)), file);
      }
      assert.equal(lstatSync(join(fresh, 'usr/bin/vigo')).mode & 0o777, 0o755);
      const { stdout: status } = await run('dpkg-query', [
        `--admindir=${join(fresh, 'var/lib/dpkg')}`,
        '--show',
        '--showformat=${Status}',
        'vigo-agent',
      ]);
      assert.equal(status, 'install ok installed');

      const enrolled = emptyRoot('enrolled');
      mkdirSync(join(enrolled, 'var/lib/vigo'), { recursive: true });
      writeFileSync(join(enrolled, 'var/lib/vigo/identity.json'), '{"envoyId":"e-1"}\n');
      await dpkg(enrolled, ['--install', deb]);
      assert.equal(readlinkSync(join(enrolled, wants)), '/usr/lib/systemd/system/vigo-envoy.service');

      await dpkg(enrolled, ['--remove', 'vigo-agent']);
      assert.equal(existsSync(join(enrolled, wants)), false, 'removal disables the service');
      assert.equal(existsSync(join(enrolled, 'usr/lib/vigo/vigo.mjs')), false);
      assert.ok(existsSync(join(enrolled, 'var/lib/vigo/identity.json')), 'removal keeps the enrollment');
      await dpkg(enrolled, ['--purge', 'vigo-agent']);
      assert.equal(existsSync(join(enrolled, 'var/lib/vigo')), false, 'purge deletes the state');
    },
  );

  it(
    'draws no lintian error',
    { skip: findTool('lintian') === undefined ? 'lintian is not installed' : false },
    async () => {
      const outcome = await run('lintian', ['--no-tag-display-limit', deb]).catch(
        (err: { stdout: string; stderr: string }) => err,
      );
      const errors = outcome.stdout.split('\n').filter((line) => line.startsWith('E: '));
      assert.deepEqual(errors, [], outcome.stdout);
    },
  );
});
