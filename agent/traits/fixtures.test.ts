import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixtureEnv, ipv4, ipv6, testdataDir } from './testing.ts';
import { createTraitCollector } from './trait-source.ts';
import type { Traits } from './types.ts';

/** Runs every default collector against testdata/<distro>; mount sizes come from the real disk, so they are split off. */
async function collectFixture(distro: string, interfaces: Parameters<typeof fixtureEnv>[1] = {}) {
  const env = fixtureEnv(join(testdataDir, distro), interfaces);
  const { traits, errors } = await createTraitCollector({ env }).collect({ awaitBackground: true });
  const { mounts, host_self: hostSelf, time, timezone, ...rest } = traits;
  return {
    rest,
    mounts: mounts as Traits[],
    hostSelf: hostSelf as Traits,
    time: time as Traits,
    timezone: timezone as Traits,
    errors,
    calls: env.calls,
  };
}

function withoutSizes(mounts: Traits[]): Traits[] {
  return mounts.map(({ size_mb: _s, used_mb: _u, ...m }) => m);
}

const rootMount = (mounts: Traits[]) => mounts.find((m) => m.mountpoint === '/')!;

describe('traits from fixture hosts', () => {
  it('debian 12: point release, fqdn from /etc/hosts, dpkg, systemd, real mounts only', async () => {
    const mac = '52:54:00:12:34:56';
    const { rest, mounts, hostSelf, time, timezone, errors, calls } = await collectFixture('debian', {
      eth0: [ipv4('192.0.2.10', 24, mac), ipv6('2001:db8::10', 64, mac)],
      lo: [ipv4('127.0.0.1', 8, '00:00:00:00:00:00')],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(rest, {
      os: {
        family: 'debian',
        distro: 'debian',
        version: '12.5',
        codename: 'bookworm',
        pretty_name: 'Debian GNU/Linux 12 (bookworm)',
      },
      kernel: { release: '6.1.0-18-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)' },
      arch: 'x86_64',
      hostname: 'web01',
      fqdn: 'web01.example.com',
      cpu: { count: 4, model: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz' },
      memory: { total_mb: 7975, free_mb: 4096, available_mb: 6144 },
      swap: { total_mb: 2047, free_mb: 2047 },
      network: {
        interfaces: [
          { name: 'eth0', mac, addresses: ['192.0.2.10/24', '2001:db8::10/64'] },
          { name: 'eth1', mac: '52:54:00:12:34:57', addresses: [] },
          { name: 'lo', mac: '00:00:00:00:00:00', addresses: ['127.0.0.1/8'] },
        ],
      },
      uptime_seconds: 350735,
      load: { '1m': 0.25, '5m': 0.18, '15m': 0.11 },
      packages: {
        manager: 'dpkg',
        count: 5,
        installed: {
          bash: '5.2.15-2+b2',
          coreutils: '9.1-1',
          nginx: '1.22.1-9',
          'libc6:i386': '2.36-9+deb12u4',
          constructor: '1.0',
        },
      },
      users: {
        accounts: [
          { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' },
          { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin', shell: '/usr/sbin/nologin' },
          { name: 'sync', uid: 4, gid: 65534, home: '/bin', shell: '/bin/sync' },
          { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' },
          { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/bash' },
          { name: 'svc', uid: 1001, gid: 1001, home: '/srv/svc', shell: '/usr/sbin/nologin' },
        ],
        human: ['alice'],
      },
      systemd: { present: true, units: ['cron.service', 'nginx.service', 'ssh.service'] },
      container: { is_container: false, runtime: null },
      locale: {
        lang: 'en_US.UTF-8',
        language: 'en_US',
        encoding: 'UTF-8',
        settings: { LANG: 'en_US.UTF-8', LC_TIME: 'en_GB.UTF-8' },
      },
      dmi: {
        available: true,
        vendor: 'Dell Inc.',
        product: 'PowerEdge R640',
        version: null,
        serial: 'ABC1234',
        uuid: '4c4c4544-0042-3510-8052-b4c04f333332',
        board: { vendor: 'Dell Inc.', name: '0H28RR' },
        bios: { vendor: 'Dell Inc.', version: '2.19.1', date: '06/13/2023' },
        chassis: { type: 'rack_mount_chassis', asset_tag: null },
      },
      cloud: {
        provider: null,
        instance_id: null,
        region: null,
        zone: null,
        instance_type: null,
        sources: [],
      },
      blockdevices: [
        {
          name: 'sda',
          size_mb: 457862,
          model: 'PERC H730P Mini',
          vendor: 'DELL',
          rotational: false,
          removable: false,
          read_only: false,
          partitions: [
            { name: 'sda1', size_mb: 512 },
            { name: 'sda2', size_mb: 457350 },
          ],
        },
      ],
      docker: {
        installed: true,
        engine: 'docker',
        client_version: '24.0.7',
        server_version: '24.0.7',
        daemon_running: true,
      },
      selinux: {
        enabled: false,
        mode: 'disabled',
        config_mode: null,
        policy_type: null,
        policy_version: null,
      },
      gpu: {
        count: 1,
        devices: [
          { slot: '0000:03:00.0', vendor: 'Matrox', vendor_id: '102b', device_id: '0536', driver: 'mgag200' },
        ],
        nvidia_driver: null,
      },
      cert_expiry: { certificates: [] },
      ports: {
        tcp: [22, 80, 631, 3306],
        udp: [53, 68],
        listening: [
          { proto: 'tcp', address: '0.0.0.0', port: 22 },
          { proto: 'tcp6', address: '::', port: 22 },
          { proto: 'udp', address: '127.0.0.53', port: 53 },
          { proto: 'udp', address: '0.0.0.0', port: 68 },
          { proto: 'tcp', address: '0.0.0.0', port: 80 },
          { proto: 'tcp6', address: '::', port: 80 },
          { proto: 'tcp6', address: '::1', port: 631 },
          { proto: 'tcp', address: '127.0.0.1', port: 3306 },
        ],
        truncated: false,
      },
      security_scan: {
        manager: 'apt',
        security_updates: 2,
        pending_updates: 4,
        packages: ['libssl3', 'openssl'],
      },
    });
    assert.deepEqual(timezone, { name: 'America/New_York' });
    assert.match(String(time.utc_offset), /^[+-]\d\d:\d\d$/);
    assert.equal(typeof time.epoch_seconds, 'number');
    assert.match(String(time.utc), /^\d{4}-\d\d-\d\dT.*Z$/);
    assert.deepEqual(withoutSizes(mounts), [
      { mountpoint: '/', device: '/dev/sda1', fstype: 'ext4' },
      { mountpoint: '/mnt/home', device: 'nas:/export/home', fstype: 'nfs4' },
      { mountpoint: '/srv/data disk', device: '/dev/sdb1', fstype: 'xfs' },
      { mountpoint: '/srv/old', device: '/dev/sdc2', fstype: 'ext4' },
    ]);
    // "/" is the fixture directory, a real directory on a real disk; the others do not exist here.
    const root = rootMount(mounts);
    assert.ok(typeof root.size_mb === 'number' && root.size_mb > 0);
    assert.ok(typeof root.used_mb === 'number' && root.used_mb <= root.size_mb);
    assert.equal(mounts.find((m) => m.mountpoint === '/mnt/home')!.size_mb, null);
    assert.ok(
      typeof hostSelf.fs_root_pct === 'number' && hostSelf.fs_root_pct >= 0 && hostSelf.fs_root_pct <= 100,
    );
    assert.ok(!calls.some((c) => c.startsWith('hostname')), 'the hosts file answered, no command needed');
  });

  it('ubuntu 22.04: family debian, VERSION_ID kept, fqdn from hostname -f, lxc from PID 1 environment', async () => {
    const { rest, mounts, errors, calls } = await collectFixture('ubuntu');
    assert.deepEqual(errors, []);
    assert.deepEqual(rest.os, {
      family: 'debian',
      distro: 'ubuntu',
      version: '22.04',
      codename: 'jammy',
      pretty_name: 'Ubuntu 22.04.4 LTS',
    });
    assert.equal(rest.fqdn, 'app02.lab.example.org');
    assert.ok(calls.includes('hostname -f'));
    assert.deepEqual(rest.memory, { total_mb: 1987, free_mb: 993, available_mb: 1490 });
    assert.deepEqual(rest.swap, { total_mb: 0, free_mb: 0 });
    assert.deepEqual(rest.container, { is_container: true, runtime: 'lxc' });
    assert.deepEqual(rest.systemd, { present: false });
    assert.deepEqual(rest.packages, {
      manager: 'dpkg',
      count: 2,
      installed: { bash: '5.1-6ubuntu1.1', snapd: '2.61.3+22.04' },
    });
    assert.deepEqual(withoutSizes(mounts), [{ mountpoint: '/', device: '/dev/sda1', fstype: 'ext4' }]);
    assert.deepEqual(rest.users, {
      accounts: [
        { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' },
        { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin', shell: '/usr/sbin/nologin' },
        { name: 'sync', uid: 4, gid: 65534, home: '/bin', shell: '/bin/sync' },
        { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' },
        { name: 'ubuntu', uid: 1000, gid: 1000, home: '/home/ubuntu', shell: '/bin/bash' },
      ],
      human: ['ubuntu'],
    });
  });

  it('rocky 9.3 on aarch64: family rhel, no codename, rpm with several kernels, MemAvailable estimated', async () => {
    const { rest, timezone, errors, calls } = await collectFixture('rocky');
    assert.deepEqual(errors, []);
    assert.deepEqual(rest.os, {
      family: 'rhel',
      distro: 'rocky',
      version: '9.3',
      codename: null,
      pretty_name: 'Rocky Linux 9.3 (Blue Onyx)',
    });
    assert.equal(rest.arch, 'aarch64');
    assert.deepEqual(rest.kernel, {
      release: '5.14.0-362.8.1.el9_3.aarch64',
      version: '#1 SMP PREEMPT_DYNAMIC Wed Nov 8 17:36:32 UTC 2023',
    });
    assert.deepEqual(rest.cpu, { count: 2, model: null });
    assert.deepEqual(rest.memory, { total_mb: 3837, free_mb: 976, available_mb: 2100 });
    assert.deepEqual(rest.swap, { total_mb: 1023, free_mb: 512 });
    assert.equal(rest.fqdn, 'db01.example.net');
    assert.deepEqual(rest.packages, {
      manager: 'rpm',
      count: 3,
      installed: {
        bash: '5.1.8-6.el9_1',
        kernel: '5.14.0-284.11.1.el9_2, 5.14.0-362.8.1.el9_3',
        'perl-Errno': '0:1.30-480.el9',
      },
    });
    assert.ok(calls.indexOf('rpm -qa --qf %{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n') > 0);
    assert.deepEqual((rest.users as Traits).human, ['bob']);
    assert.deepEqual(rest.container, { is_container: false, runtime: null });
    assert.deepEqual(rest.load, { '1m': 0, '5m': 0.01, '15m': 0.05 });
    assert.deepEqual(rest.cloud, {
      provider: 'aws',
      instance_id: 'i-0abc1234def567890',
      region: 'eu-central-1',
      zone: 'eu-central-1a',
      instance_type: 't4g.medium',
      sources: ['dmi', 'cloud-init'],
    });
    assert.deepEqual(rest.selinux, {
      enabled: true,
      mode: 'enforcing',
      config_mode: 'enforcing',
      policy_type: 'targeted',
      policy_version: 33,
    });
    assert.equal(timezone.name, 'Europe/Berlin', 'from the /etc/localtime link');
    assert.deepEqual((rest.locale as Traits).lang, 'de_DE.UTF-8');
    assert.deepEqual(rest.security_scan, {
      manager: 'dnf',
      security_updates: 5,
      pending_updates: null,
      packages: ['expat', 'gnutls', 'kernel', 'kernel-core', 'openssl'],
    });
    assert.ok(calls.includes('dnf -q -C updateinfo list --security'), 'from the cache only: no download');
    assert.deepEqual(rest.docker, {
      installed: false,
      engine: null,
      client_version: null,
      server_version: null,
      daemon_running: false,
    });
  });

  it('alpine 3.19 in docker: /usr/lib/os-release, apk database, file bind mounts left out', async () => {
    const { rest, mounts, timezone, errors } = await collectFixture('alpine');
    assert.deepEqual(errors, []);
    assert.deepEqual(rest.os, {
      family: 'alpine',
      distro: 'alpine',
      version: '3.19.1',
      codename: null,
      pretty_name: 'Alpine Linux v3.19',
    });
    assert.equal(rest.hostname, '3f2a1b0c9d8e');
    assert.equal(rest.fqdn, '3f2a1b0c9d8e', 'no domain anywhere: the short name');
    assert.deepEqual(rest.packages, {
      manager: 'apk',
      count: 3,
      installed: { musl: '1.2.4_git20230717-r4', busybox: '1.36.1-r15', 'alpine-baselayout': '3.4.3-r2' },
    });
    assert.deepEqual(rest.container, { is_container: true, runtime: 'docker' });
    assert.deepEqual(withoutSizes(mounts), [{ mountpoint: '/', device: 'overlay', fstype: 'overlay' }]);
    assert.deepEqual(rest.users, {
      accounts: [
        { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/ash' },
        { name: 'nobody', uid: 65534, gid: 65534, home: '/', shell: '/sbin/nologin' },
      ],
      human: [],
    });
    assert.equal(rest.uptime_seconds, 42);
    // A container: no firmware, no PCI bus, no block devices, nothing listening, no package scanner.
    assert.equal((rest.dmi as Traits).available, false);
    assert.equal((rest.cloud as Traits).provider, null);
    assert.deepEqual(rest.blockdevices, []);
    assert.deepEqual(rest.gpu, { count: 0, devices: [], nvidia_driver: null });
    assert.deepEqual(rest.ports, { tcp: [], udp: [], listening: [], truncated: false });
    assert.deepEqual(rest.security_scan, {
      manager: 'none',
      security_updates: null,
      pending_updates: null,
      packages: [],
    });
    assert.deepEqual(timezone, { name: 'UTC' });
    assert.deepEqual(rest.locale, { lang: null, language: null, encoding: null, settings: {} });
  });
});
