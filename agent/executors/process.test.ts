import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { createProcessExecutor, listProcesses } from './process.ts';
import { setup } from './test-context.ts';

const ex = createProcessExecutor();

/** A unique `sleep` argument, and cleanup of whatever still matches it when the test ends. */
function marker(t: TestContext): { seconds: string; pattern: string } {
  const seconds = `600.${randomInt(100_000, 999_999)}`;
  const pattern = `^sleep ${seconds.replace('.', '\\.')}$`;
  t.after(async () => {
    for (const p of await listProcesses('/proc')) {
      if (new RegExp(pattern).test(p.cmdline)) process.kill(p.pid, 'SIGKILL');
    }
  });
  return { seconds, pattern };
}

async function pidsOf(pattern: string): Promise<number[]> {
  return (await listProcesses('/proc')).filter((p) => new RegExp(pattern).test(p.cmdline)).map((p) => p.pid);
}

describe('process executor', () => {
  it('starts a missing process, then changes nothing, then stops it with SIGTERM', async (t) => {
    const { ctx } = setup(t);
    const { seconds, pattern } = marker(t);
    const params = { pattern, start: `sleep ${seconds}` };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created');
    assert.match(dry.message, /^would start process/);
    assert.deepEqual(await pidsOf(pattern), []);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    const pids = await pidsOf(pattern);
    assert.equal(pids.length, 1);
    const again = await ex.apply(params, ctx());
    assert.equal(again.outcome, 'none', again.message);
    assert.match(again.message, new RegExp(`pid ${pids[0]}`));
    const stopParams = { pattern, state: 'stopped' };
    assert.equal((await ex.apply(stopParams, ctx(true))).outcome, 'deleted');
    assert.equal((await pidsOf(pattern)).length, 1);
    const stopped = await ex.apply(stopParams, ctx());
    assert.equal(stopped.outcome, 'deleted', stopped.message);
    assert.match(stopped.message, /with SIGTERM$/);
    assert.deepEqual(await pidsOf(pattern), []);
    assert.equal((await ex.apply(stopParams, ctx())).outcome, 'none');
  });

  it('uses the stop command when given', async (t) => {
    const { ctx } = setup(t);
    const { seconds, pattern } = marker(t);
    assert.equal((await ex.apply({ pattern, start: `sleep ${seconds}` }, ctx())).outcome, 'created');
    const r = await ex.apply({ pattern, state: 'stopped', stop: `pkill -f '^sleep ${seconds}$'` }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.match(r.message, /with the stop command/);
    assert.deepEqual(await pidsOf(pattern), []);
  });

  it('kills a process that ignores SIGTERM once the timeout has passed', async (t) => {
    const { ctx } = setup(t);
    const { seconds, pattern } = marker(t);
    // The trap survives exec: an ignored signal stays ignored in the new program.
    const start = `trap '' TERM; exec sleep ${seconds}`;
    assert.equal((await ex.apply({ pattern, start }, ctx())).outcome, 'created');
    const r = await ex.apply({ pattern, state: 'stopped', timeout: 1 }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.match(r.message, /SIGKILL after the timeout/);
    assert.deepEqual(await pidsOf(pattern), []);
  });

  it('fails, without repeating the command, when the start command starts nothing that matches', async (t) => {
    const { ctx } = setup(t);
    const { pattern } = marker(t);
    const r = await ex.apply({ pattern, start: 'echo token=S3CRET-VALUE >/dev/null', timeout: 1 }, ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /no matching process appeared within 1 s/);
    assert.doesNotMatch(r.message, /S3CRET/);
    const missing = await ex.apply({ pattern }, ctx());
    assert.match(missing.message, /start is required/);
    const bad = await ex.apply({ pattern: '(', start: 'true' }, ctx());
    assert.match(bad.message, /pattern is not a valid regular expression/);
  });
});
