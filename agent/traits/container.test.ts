import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { containerCollector, runtimeFromEnviron, runtimeFromMountinfo } from './container.ts';
import { fixtureEnv } from './testing.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fixture root holding exactly the given files (path relative to the root → content). */
function host(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

async function detect(files: Record<string, string>) {
  const { container } = await containerCollector.collect(fixtureEnv(host(files)));
  return container as { is_container: boolean; runtime: string | null };
}

const hostCgroupV1 = '12:pids:/init.scope\n1:name=systemd:/init.scope\n0::/init.scope\n';
const dockerCgroupV1 =
  '12:pids:/docker/3f2a1b0c9d8e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a\n' +
  '1:name=systemd:/docker/3f2a1b0c9d8e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a\n';

describe('container detection', () => {
  it('a plain host is not a container', async () => {
    assert.deepEqual(await detect({ 'proc/1/cgroup': hostCgroupV1, 'proc/self/mountinfo': '' }), {
      is_container: false,
      runtime: null,
    });
  });

  it('/.dockerenv means docker', async () => {
    assert.deepEqual(await detect({ '.dockerenv': '', 'proc/1/cgroup': '0::/\n' }), {
      is_container: true,
      runtime: 'docker',
    });
  });

  it('/run/.containerenv means podman', async () => {
    assert.deepEqual(
      await detect({ 'run/.containerenv': 'engine="podman-4.9.3"\n', 'proc/1/cgroup': '0::/\n' }),
      {
        is_container: true,
        runtime: 'podman',
      },
    );
  });

  it('docker cgroup paths of PID 1 (cgroup v1) without any marker file', async () => {
    assert.deepEqual(await detect({ 'proc/1/cgroup': dockerCgroupV1 }), {
      is_container: true,
      runtime: 'docker',
    });
  });

  it('a kubernetes pod wins over the docker marker it may also carry', async () => {
    const cgroup = '11:memory:/kubepods/burstable/pod1234/abcdef\n0::/\n';
    assert.deepEqual(await detect({ '.dockerenv': '', 'proc/1/cgroup': cgroup }), {
      is_container: true,
      runtime: 'kubernetes',
    });
  });

  it('lxc cgroup paths and the systemd container marker', async () => {
    assert.equal((await detect({ 'proc/1/cgroup': '0::/lxc.payload.web01/init.scope\n' })).runtime, 'lxc');
    assert.equal((await detect({ 'run/systemd/container': 'systemd-nspawn\n' })).runtime, 'systemd-nspawn');
  });

  it('cgroup v2 with a private namespace: the bind mounts of /etc/hosts tell', async () => {
    const mountinfo =
      '600 590 0:50 / / rw,relatime master:1 - overlay overlay rw\n' +
      '612 600 254:1 /var/lib/docker/containers/3f2a/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n';
    assert.deepEqual(await detect({ 'proc/1/cgroup': '0::/\n', 'proc/self/mountinfo': mountinfo }), {
      is_container: true,
      runtime: 'docker',
    });
  });

  it('a docker host mounting container files elsewhere is not a container', () => {
    const hostMountinfo =
      '30 1 254:1 / / rw - ext4 /dev/vda1 rw\n' +
      '88 30 0:48 / /var/lib/docker/containers/3f2a/mounts/shm rw - tmpfs shm rw\n';
    assert.equal(runtimeFromMountinfo(hostMountinfo), null);
  });

  it('reads container= from a NUL-separated environment', () => {
    assert.equal(runtimeFromEnviron('HOME=/\0container=podman\0'), 'podman');
    assert.equal(runtimeFromEnviron('HOME=/\0container=\0'), null);
    assert.equal(runtimeFromEnviron(''), null);
  });
});
