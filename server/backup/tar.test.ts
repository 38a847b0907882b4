import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader, endOfArchive, fileHeader, isSafeMemberName, readMemberHeader } from './tar.ts';

const roomy = { maxMembers: 10, maxMemberBytes: 2 ** 40, maxTotalBytes: 2 ** 40 };

async function readBack(bytes: Buffer): Promise<{ name: string; size: number } | undefined> {
  async function* source(): AsyncGenerator<Buffer> {
    yield bytes;
  }
  return readMemberHeader(new ByteReader(source()), roomy, 0);
}

describe('tar headers', () => {
  it('round-trip a size past the 8 GiB that octal digits hold (base-256)', async () => {
    const size = 9 * 1024 ** 3;
    assert.deepEqual(await readBack(fileHeader('db/vigo.db', size, 0)), { name: 'db/vigo.db', size });
  });

  it('round-trip a name longer than 100 bytes through a PAX path record', async () => {
    const name = `stacks/${'deep/'.repeat(40)}é-stack.yaml`;
    assert.deepEqual(await readBack(fileHeader(name, 5, 0)), { name, size: 5 });
  });

  it('read the end-of-archive blocks as the end', async () => {
    assert.equal(await readBack(endOfArchive), undefined);
  });

  it('refuse a header whose checksum does not match', async () => {
    const header = fileHeader('tls/ca.key', 5, 0);
    header[0] = 'u'.charCodeAt(0);
    await assert.rejects(readBack(header), { code: 'backup.archive_invalid' });
  });

  it('accept only relative names without "." or ".." segments', () => {
    for (const name of ['db/vigo.db', 'stacks/a/b.yaml']) assert.ok(isSafeMemberName(name), name);
    for (const name of ['', '/etc/passwd', '../x', 'a/../b', 'a//b', './a', 'a\\b', 'a\0b'])
      assert.ok(!isSafeMemberName(name), JSON.stringify(name));
  });
});
