/**
 * One bounded HTTP(S) POST for the HTTP sinks: a per-request timeout covering connect to last byte, a
 * capped response body, an optional CA file for private receivers, and the status mapped to an outcome
 * (2xx delivered; 408, 429 and 5xx retried; any other answer dead at once, since resending cannot help).
 * Sinks that send a credential also retry 401 and 403: the credential is read from the vault at every try,
 * so fixing it there lets the queued events through instead of losing them.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Outcome } from './types.ts';
import { errorText } from './types.ts';

export interface PostOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  readonly timeoutMs: number;
  readonly ca: string | undefined;
  /** Retry 401 and 403 (the request carries a vault credential that can be fixed). */
  readonly retryAuthFailures?: boolean;
}

export interface PostResponse {
  readonly status: number;
  /** The first bytes of the response body (enough for an error message or a bulk summary). */
  readonly body: string;
}

const maxResponseBytes = 1024 * 1024;

export function readCaFile(file: string | undefined): string | undefined {
  return file === undefined ? undefined : readFileSync(file, 'utf8');
}

export function post(url: string, options: PostOptions): Promise<PostResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        ...(target.protocol === 'https:' && options.ca !== undefined ? { ca: options.ca } : {}),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxResponseBytes) chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => {
      request.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    request.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.end(options.body);
  });
}

export function statusOutcome(response: PostResponse, retryAuthFailures = false): Outcome {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const detail = response.body.trim() === '' ? '' : `: ${errorText(response.body, 200)}`;
  const error = `HTTP ${status}${detail}`;
  if (status === 408 || status === 429 || status >= 500 || status < 200) return { kind: 'retry', error };
  if (retryAuthFailures && (status === 401 || status === 403)) return { kind: 'retry', error };
  return { kind: 'dead', error };
}

/** Posts and maps the answer; a network failure or timeout is retried. */
export async function postForOutcome(url: string, options: PostOptions): Promise<Outcome> {
  try {
    return statusOutcome(await post(url, options), options.retryAuthFailures);
  } catch (err) {
    return { kind: 'retry', error: errorText(err) };
  }
}

/** The base URL with `suffix` appended to its path (a trailing slash in the base is dropped). */
export function endpoint(base: string, suffix: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${suffix}`;
  return url.toString();
}
