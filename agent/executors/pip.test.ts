import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findExecutable } from './exec.ts';
import { pipExecutor as ex } from './pip.ts';
import { setup } from './test-context.ts';

const python = findExecutable('python3');
const hasPip =
  python !== undefined &&
  (() => {
    try {
      execFileSync(python, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
const skip = hasPip ? false : 'python3 with pip is not installed here';

/** Writes a pure-Python wheel (a zip with dist-info and a RECORD) with the standard library only. */
const buildWheel = `
import base64, hashlib, sys, zipfile
out, version = sys.argv[1], sys.argv[2]
name = "vigo_test_lib"
files = {
    f"{name}/__init__.py": f"VERSION = {version!r}\\n",
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: vigo-test-lib\\nVersion: {version}\\n",
    f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: vigo-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for p, text in files.items():
    data = text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{p},sha256={digest},{len(data)}")
record.append(f"{name}-{version}.dist-info/RECORD,,")
files[f"{name}-{version}.dist-info/RECORD"] = "\\n".join(record) + "\\n"
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for p, text in files.items():
        z.writestr(p, text)
print(f"{out}/{name}-{version}-py3-none-any.whl")
`;

function wheel(dir: string, version: string): string {
  return execFileSync(python ?? 'python3', ['-c', buildWheel, dir, version], { encoding: 'utf8' }).trim();
}

describe('pip executor', { skip }, () => {
  it('installs a local wheel into a target dir, changes nothing twice, changes version, removes', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'site');
    const v1 = wheel(dir, '1.0');
    const v2 = wheel(dir, '2.0');
    const params = { package: 'vigo-test-lib', version: '1.0', source: v1, target };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.equal(fs.existsSync(target), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(
      fs.readFileSync(path.join(target, 'vigo_test_lib', '__init__.py'), 'utf8'),
      "VERSION = '1.0'\n",
    );
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const up = await ex.apply({ ...params, version: '2.0', source: v2 }, ctx());
    assert.equal(up.outcome, 'updated', up.message);
    assert.match(up.message, /changed 1\.0 -> 2\.0/);
    assert.equal(
      fs.readFileSync(path.join(target, 'vigo_test_lib', '__init__.py'), 'utf8'),
      "VERSION = '2.0'\n",
    );
    const gone = await ex.apply({ package: 'vigo-test-lib', target, state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.existsSync(path.join(target, 'vigo_test_lib')), false);
    assert.deepEqual(
      fs.readdirSync(target).filter((f) => f.startsWith('vigo_test_lib')),
      [],
    );
    assert.equal(
      (await ex.apply({ package: 'vigo-test-lib', target, state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('reports what pip said when the install fails, and refuses bad input', async (t) => {
    const { dir, ctx } = setup(t);
    const r = await ex.apply(
      { package: 'vigo-test-lib', source: path.join(dir, 'missing.whl'), target: dir },
      ctx(),
    );
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /pip package vigo-test-lib in .*: `python3 -m pip install --quiet --target .* -- .*missing\.whl` failed \(exit 1\)/,
    );
    for (const params of [
      { package: 'x y' },
      { package: 'ok', python: '-c' },
      { package: 'ok', target: 'relative' },
    ]) {
      assert.equal((await ex.apply(params, ctx())).outcome, 'failed', JSON.stringify(params));
    }
  });
});
