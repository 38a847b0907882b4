import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { countCpuList, cpuCollector } from './cpu.ts';
import { fqdnFromHosts } from './identity.ts';
import { memoryCollector } from './memory.ts';
import { parseMounts } from './mounts.ts';
import { osCollector, osFamily, parseOsRelease } from './os.ts';
import { packagesCollector, parseApkDb, parseDpkg, parseNameVersion } from './packages.ts';
import { parseUnitList, systemdCollector } from './systemd.ts';
import { fixtureEnv } from './testing.ts';
import type { TraitEnv } from './types.ts';
import { uptimeCollector } from './uptime.ts';
import { humanUidRange, parsePasswd } from './users.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function host(files: Record<string, string>): TraitEnv & { calls: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return fixtureEnv(root);
}

describe('os-release', () => {
  it('unquotes double and single quotes and shell escapes', () => {
    const fields = parseOsRelease('A="x \\"y\\" \\$z"\nB=\'lit $x\'\nC=plain\n# comment\nbroken line\n');
    assert.deepEqual(
      [...fields],
      [
        ['A', 'x "y" $z'],
        ['B', 'lit $x'],
        ['C', 'plain'],
      ],
    );
  });

  it('maps IDs and ID_LIKE to families', () => {
    assert.equal(osFamily('almalinux', ['rhel', 'centos', 'fedora']), 'rhel');
    assert.equal(osFamily('fedora', []), 'rhel');
    assert.equal(osFamily('amzn', ['centos', 'rhel', 'fedora']), 'rhel');
    assert.equal(osFamily('linuxmint', ['ubuntu', 'debian']), 'debian');
    assert.equal(osFamily('opensuse-leap', ['suse', 'opensuse']), 'suse');
    assert.equal(osFamily('manjaro', ['arch']), 'arch');
    assert.equal(osFamily('nixos', []), 'nixos');
  });

  it('debian testing: no VERSION_ID and a codename-only debian_version give a null version', async () => {
    const env = host({
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\nVERSION_CODENAME=trixie\n',
      'etc/debian_version': 'trixie/sid\n',
    });
    assert.deepEqual((await osCollector.collect(env)).os, {
      family: 'debian',
      distro: 'debian',
      version: null,
      codename: 'trixie',
      pretty_name: 'Debian GNU/Linux trixie/sid',
    });
  });

  it('fails, naming both paths, when there is no os-release at all', async () => {
    await assert.rejects(
      osCollector.collect(host({})),
      /cannot tell the operating system: neither .*os-release/,
    );
  });
});

describe('proc parsers', () => {
  it('counts sysfs CPU lists and falls back to them when cpuinfo has no processor lines', async () => {
    assert.equal(countCpuList('0-3,6,8-9\n'), 7);
    assert.equal(countCpuList('garbage'), 0);
    const env = host({ 'proc/cpuinfo': 'model name : Mystery\n', 'sys/devices/system/cpu/online': '0-1\n' });
    assert.deepEqual(await cpuCollector.collect(env), { cpu: { count: 2, model: 'Mystery' } });
    await assert.rejects(cpuCollector.collect(host({ 'proc/cpuinfo': '\n' })), /lists none/);
  });

  it('meminfo without MemTotal is an error naming the file', async () => {
    await assert.rejects(
      memoryCollector.collect(host({ 'proc/meminfo': 'Bogus: 1 kB\n' })),
      /meminfo has no MemTotal/,
    );
  });

  it('uptime and loadavg garbage is an error, not NaN in the traits', async () => {
    const env = host({ 'proc/uptime': 'abc def\n', 'proc/loadavg': '0.1 0.2 0.3 1/2 3\n' });
    await assert.rejects(uptimeCollector.collect(env), /cannot parse .*uptime/);
    const short = host({ 'proc/uptime': '5.0 1.0\n', 'proc/loadavg': '0.1 0.2\n' });
    await assert.rejects(uptimeCollector.collect(short), /expected 3 numbers/);
  });

  it('mount table: octal escapes decoded, virtual filesystems dropped, the last mount on a path kept', () => {
    const text =
      'rootfs / rootfs rw 0 0\n/dev/sda1 / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n' +
      '/dev/sdb1 /mnt/a\\040b\\011c ext4 rw 0 0\n/dev/sdc1 /data ext4 rw 0 0\n/dev/sdc9 /data xfs rw 0 0\nshort line\n';
    assert.deepEqual(parseMounts(text), [
      { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4' },
      { device: '/dev/sdc9', mountpoint: '/data', fstype: 'xfs' },
      { device: '/dev/sdb1', mountpoint: '/mnt/a b\tc', fstype: 'ext4' },
    ]);
  });
});

describe('packages', () => {
  it('dpkg: only installed states, arch-qualified names kept', () => {
    assert.deepEqual(
      parseDpkg('ii \ta\t1\nrc \tb\t2\nhi \tc\t3\nun \td\t\niF \te\t5\nii \tf:i386\t6\ngarbage\n'),
      {
        a: '1',
        c: '3',
        'f:i386': '6',
      },
    );
  });

  it('rpm and pacman lines; the same name twice keeps both versions, sorted', () => {
    assert.deepEqual(parseNameVersion('k\t2\nk\t1\nk\t2\ngpg-pubkey\tx\n\n', /\t/), { k: '1, 2' });
    assert.deepEqual(parseNameVersion('linux 6.7.4.arch1-1\nbash 5.2.026-2\n', / +/), {
      linux: '6.7.4.arch1-1',
      bash: '5.2.026-2',
    });
  });

  it('apk database records without a version are skipped', () => {
    assert.deepEqual(parseApkDb('P:a\nV:1\n\nP:b\n\nV:3\n'), { a: '1' });
  });

  it('a failing package tool is an error with its exit code and stderr', async () => {
    const env: TraitEnv = {
      ...host({}),
      run: async () => ({
        exitCode: 2,
        stdout: '',
        stderr: 'dpkg-query: error: database locked',
        timedOut: false,
      }),
    };
    await assert.rejects(packagesCollector.collect(env), {
      message: 'dpkg-query exited with 2: dpkg-query: error: database locked',
    });
  });

  it('no package database at all: manager none', async () => {
    assert.deepEqual(await packagesCollector.collect(host({})), {
      packages: { manager: 'none', count: 0, installed: {} },
    });
  });
});

describe('users, systemd, fqdn', () => {
  it('passwd: comments, NIS lines and malformed entries skipped', () => {
    const text =
      '# c\n+@netgroup::::::\nok:x:5:6:g:/h:/bin/sh\nbad:x:abc:1::/h:/bin/sh\nshort:x:1:1\n:x:1:1::/:/bin/sh\n';
    assert.deepEqual(parsePasswd(text), [{ name: 'ok', uid: 5, gid: 6, home: '/h', shell: '/bin/sh' }]);
  });

  it('login.defs UID range, with defaults', () => {
    assert.deepEqual(humanUidRange('UID_MIN 500\n#UID_MAX 10\n'), { min: 500, max: 60000 });
    assert.deepEqual(humanUidRange(null), { min: 1000, max: 60000 });
  });

  it('unit list keeps service names only, sorted', () => {
    assert.deepEqual(
      parseUnitList('b.service loaded active running B\na.service loaded active running A\n\n'),
      ['a.service', 'b.service'],
    );
  });

  it('systemd present but systemctl failing is an error', async () => {
    const env: TraitEnv = {
      ...host({ 'run/systemd/system/.keep': '' }),
      run: async () => ({ exitCode: 1, stdout: '', stderr: 'Failed to connect to bus', timedOut: false }),
    };
    await assert.rejects(systemdCollector.collect(env), /exit 1\): Failed to connect to bus/);
  });

  it('fqdn from hosts: the canonical name of the line listing the host, only if it extends the short name', () => {
    const hosts =
      '127.0.0.1 localhost\n10.0.0.5 web01.example.com web01 # primary\n10.0.0.6 other.example.com web02\n';
    assert.equal(fqdnFromHosts(hosts, 'web01'), 'web01.example.com');
    assert.equal(fqdnFromHosts(hosts, 'web02'), null);
    assert.equal(fqdnFromHosts(hosts, 'web03'), null);
  });
});
