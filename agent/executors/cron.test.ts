import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createCronExecutor } from './cron.ts';
import type { Executor, ExecutorContext } from './types.ts';

/**
 * Stands in for cron's crontab(1), which is not installed here: `-u USER -l` prints tab-USER (or
 * "no crontab for USER", exit 1) and `-u USER -` stores stdin there.
 */
const fakeCrontab = `#!/bin/sh
dir=$(dirname "$0")
[ "$1" = -u ] || { echo "usage" >&2; exit 2; }
table="$dir/tab-$2"
case "$3" in
  -l) [ -f "$table" ] || { echo "no crontab for $2" >&2; exit 1; }; cat "$table" ;;
  -) cat > "$table" ;;
  *) echo "usage" >&2; exit 2 ;;
esac
`;

interface Setup {
  dir: string;
  executor: Executor;
  table: (user: string) => string | undefined;
  ctx: (dryRun?: boolean) => ExecutorContext;
}

function setup(t: TestContext): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const crontabPath = path.join(dir, 'crontab');
  fs.writeFileSync(crontabPath, fakeCrontab, { mode: 0o755 });
  const ctx = (dryRun = false): ExecutorContext => ({
    dryRun,
    run: runCommand,
    snapshotFile: async () => {},
    customExecutorDir: dir,
    signal: new AbortController().signal,
  });
  const table = (user: string): string | undefined => {
    const p = path.join(dir, `tab-${user}`);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  };
  return { dir, executor: createCronExecutor({ crontabPath }), table, ctx };
}

const existing = 'MAILTO=ops@example.com\n# nightly report\n30 2 * * * /usr/local/bin/report\n';

describe('cron executor', () => {
  it('adds an entry to an empty crontab (user root by default), then changes nothing', async (t) => {
    const { executor, table, ctx } = setup(t);
    const params = { command: '/usr/local/bin/backup --token=s3cr3t', minute: 15, hour: '3' };
    const r = await executor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.doesNotMatch(r.message, /s3cr3t/);
    assert.equal(table('root'), '15 3 * * * /usr/local/bin/backup --token=s3cr3t\n');
    assert.equal((await executor.apply(params, ctx())).outcome, 'none');
  });

  it('corrects a drifted schedule of the same command, keeping other lines', async (t) => {
    const { dir, executor, table, ctx } = setup(t);
    fs.writeFileSync(
      path.join(dir, 'tab-nobody'),
      `${existing}0 * * * * /bin/sync\n0  5 * * *   /bin/sync\n`,
    );
    const r = await executor.apply({ command: '/bin/sync', user: 'nobody', special: 'daily' }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /schedule "0 \* \* \* \*" -> "@daily"/);
    assert.equal(table('nobody'), `${existing}@daily /bin/sync\n`);
    assert.equal(
      (await executor.apply({ command: '/bin/sync', user: 'nobody', special: 'daily' }, ctx())).outcome,
      'none',
    );
  });

  it('state absent removes the entry as deleted', async (t) => {
    const { dir, executor, table, ctx } = setup(t);
    fs.writeFileSync(path.join(dir, 'tab-root'), existing);
    const r = await executor.apply({ command: '/usr/local/bin/report', state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(table('root'), 'MAILTO=ops@example.com\n# nightly report\n');
    assert.equal(
      (await executor.apply({ command: '/usr/local/bin/report', state: 'absent' }, ctx())).outcome,
      'none',
    );
    assert.equal(
      (await executor.apply({ command: '/x', user: 'nobody', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, executor, table, ctx } = setup(t);
    const created = await executor.apply({ command: '/bin/true' }, ctx(true));
    assert.equal(created.outcome, 'created');
    assert.match(created.message, /^would create/);
    assert.equal(table('root'), undefined);
    fs.writeFileSync(path.join(dir, 'tab-root'), existing);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ command: '/usr/local/bin/report', hour: 4 }, 'updated'],
      [{ command: '/usr/local/bin/report', state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await executor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.equal(table('root'), existing);
  });

  it('fails on parameters that cannot work, leaving the crontab alone', async (t) => {
    const { dir, executor, table, ctx } = setup(t);
    fs.writeFileSync(path.join(dir, 'tab-root'), existing);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ command: '/bin/true', user: 'no-such-user-vigo' }, /unknown user "no-such-user-vigo"/],
      [{ command: '/bin/true', user: '-r' }, /not a valid user name/],
      [{ command: '/bin/true', special: 'daily', hour: 3 }, /special replaces minute/],
      [{ command: '/bin/true', special: 'fortnightly' }, /special must be one of/],
      [{ command: '/bin/true', minute: '1 2' }, /minute "1 2" is not a cron field/],
      [{ command: '/bin/true\n* * * * * /bin/evil' }, /single line/],
      [{ command: '' }, /command is required/],
    ];
    for (const [params, message] of cases) {
      const r = await executor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(table('root'), existing);
  });

  it('fails with a clear message when crontab is not installed', async (t) => {
    const { dir, ctx } = setup(t);
    const missing = createCronExecutor({ crontabPath: path.join(dir, 'no-crontab') });
    const r = await missing.apply({ command: '/bin/true' }, ctx());
    assert.equal(r.outcome, 'failed');
    assert.equal(r.message, 'crontab not found; install cron');
  });

  it('reports a crontab error instead of treating it as an empty table', async (t) => {
    const { dir, ctx } = setup(t);
    const broken = path.join(dir, 'broken-crontab');
    fs.writeFileSync(broken, '#!/bin/sh\necho "crontab: cannot open spool" >&2\nexit 1\n', { mode: 0o755 });
    const r = await createCronExecutor({ crontabPath: broken }).apply({ command: '/bin/true' }, ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /cannot open spool/);
  });
});
