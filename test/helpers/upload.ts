/**
 * Sends a request body to a real vigosrv the way a hostile or careless client would — chunked (no
 * Content-Length) or with a declared length — writing only as fast as the connection takes it, and stops
 * writing as soon as the server answers or closes. Reports what the server answered and how many body
 * bytes the client managed to hand to its socket.
 */
import { request } from 'node:https';
import type { ReadyServer } from './server-process.ts';

export interface UploadOutcome {
  readonly status: number;
  readonly code: string | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Body bytes written to the socket (kernel buffers included) before the answer or the close. */
  readonly written: number;
}

export interface UploadOptions {
  readonly headers?: Record<string, string>;
  readonly totalBytes: number;
  /** Send Content-Length: totalBytes instead of a chunked body. */
  readonly declareLength?: boolean;
  readonly chunkBytes?: number;
}

function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

export function upload(server: ReadyServer, path: string, options: UploadOptions): Promise<UploadOutcome> {
  const chunk = Buffer.alloc(options.chunkBytes ?? 64 * 1024, 0x20);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.declareLength === true) headers['content-length'] = String(options.totalBytes);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request(`${server.apiUrl}${path}`, { method: 'POST', ca: server.ca, headers, agent: false });
    req.on('response', (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      const done = (): void => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, code: codeOf(text), headers: res.headers, written });
      };
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (err) => {
      if (!answered) reject(new Error(`no answer after ${written} body bytes: ${err.message}`));
    });
    const pump = (): void => {
      while (!answered && !req.destroyed && written < options.totalBytes) {
        const part = chunk.subarray(0, Math.min(chunk.length, options.totalBytes - written));
        written += part.length;
        if (!req.write(part)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}
