// The entry of a check-in process, plain JavaScript so it runs before any loader. A watchdog thread ends
// the process as soon as the server process that started it is gone — also while TypeScript is still
// being loaded, when the main thread may be blocked on the loader — so that no check-in process outlives
// its server. Then tsx is registered and the check-in process proper (front-process.ts) is loaded.
import process from 'node:process';
import { URL } from 'node:url';
import { Worker } from 'node:worker_threads';

const watchdog = `
  const { workerData } = require('node:worker_threads');
  setInterval(() => {
    if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
  }, 500);
`;
new Worker(watchdog, { eval: true, workerData: { parent: process.ppid, self: process.pid } }).unref();
process.once('disconnect', () => process.exit(0));

const { register } = await import('tsx/esm/api');
register();
await import(new URL('./front-process.ts', import.meta.url).href);
