import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../core/index.ts';
import { createServiceNotifier, parseNotifySocket, statusText } from './sd-notify.ts';

const log = createLogger({ level: { value: 'error' }, fields: {} });

describe('NOTIFY_SOCKET', () => {
  it('accepts an absolute path and an abstract name', () => {
    assert.deepEqual(parseNotifySocket('/run/systemd/notify'), {
      kind: 'socket',
      address: '/run/systemd/notify',
    });
    assert.deepEqual(parseNotifySocket('@vigo/notify'), { kind: 'socket', address: '@vigo/notify' });
    assert.deepEqual(parseNotifySocket(undefined), { kind: 'unset' });
    assert.deepEqual(parseNotifySocket(''), { kind: 'unset' });
  });

  it('refuses relative paths, bare prefixes, over-long names and embedded NUL or newline', () => {
    for (const value of ['run/notify', 'vsock:2:1234', '@', '/', `/${'a'.repeat(107)}`, '/a\nb', '@a\0b']) {
      assert.equal(parseNotifySocket(value).kind, 'invalid', JSON.stringify(value));
    }
    assert.equal(parseNotifySocket(`/${'a'.repeat(106)}`).kind, 'socket');
  });

  it('is taken out of the environment so no child process inherits it', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', OTHER: 'x' };
    const notifier = createServiceNotifier({ env, log, sender: '/bin/true' });
    assert.equal(notifier.address, '/run/systemd/notify');
    assert.deepEqual(env, { OTHER: 'x' });
    const invalid: NodeJS.ProcessEnv = { NOTIFY_SOCKET: 'relative' };
    assert.equal(createServiceNotifier({ env: invalid, log }).address, undefined);
    assert.deepEqual(invalid, {});
  });

  it('keeps status text to one bounded line', () => {
    assert.equal(statusText('a\nb\r\u0000c'), 'a b c');
    assert.equal(statusText('x'.repeat(500)).length, 200);
  });
});
