/**
 * Starting a worker thread from one of our modules. Under tsx (bin/vigosrv, tests) the sources are
 * TypeScript, and on Node 20 a worker does not inherit the main thread's loader: the worker registers tsx
 * itself before it loads its body.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
