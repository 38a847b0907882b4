/**
 * vigocli's HTTPS client for the REST API: trusts only the server's CA, sends the bearer token, and
 * turns every failure into a CliError with the documented exit code.
 */
import { request } from 'node:https';
import { CliError, cliExitCodes } from './errors.ts';

export interface ApiClientOptions {
  readonly baseUrl: URL;
  /** Read lazily, so commands and errors that never reach the network need no CA file. */
  readonly caPem: () => string;
  readonly token: () => string;
  readonly timeoutMs?: number;
}

export interface ApiClient {
  readonly baseUrl: URL;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const tlsErrorPattern = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;
const maxResponseBytes = 16 * 1024 * 1024;

function transportError(url: URL, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  const message = tlsErrorPattern.test(code)
    ? `TLS with ${url.host} failed (${detail}); check --ca points at the server's tls/ca.crt and --server names the host on its certificate`
    : `cannot reach vigosrv at ${url.origin} (${detail}); is it running, and is --server right?`;
  return new CliError(cliExitCodes.unreachable, 'cli.unreachable', message, undefined, { cause: err });
}

function send(
  url: URL,
  options: ApiClientOptions,
  method: string,
  body: string | undefined,
): Promise<RawResponse> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: `Bearer ${options.token()}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const ca = options.caPem();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ca, agent: false, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes)
            req.destroy(new Error(`response larger than ${maxResponseBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', (err) => reject(transportError(url, err)));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('no answer within the timeout'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', (err) => reject(transportError(url, err)));
    req.end(body);
  });
}

interface ErrorEnvelope {
  code: string;
  message: string;
  requestId: string;
  diagnostics?: unknown[];
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const v = value as Partial<ErrorEnvelope> | null;
  return typeof v === 'object' && v !== null && typeof v.code === 'string' && typeof v.message === 'string';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFromResponse(response: RawResponse, url: URL): CliError {
  const parsed = parseJson(response.body);
  const exitCode =
    response.status === 401 || response.status === 403 ? cliExitCodes.auth : cliExitCodes.error;
  if (!isEnvelope(parsed)) {
    return new CliError(
      exitCode,
      'cli.bad_response',
      `${url.pathname} answered HTTP ${response.status} without an error body`,
    );
  }
  const retryAfter = response.headers['retry-after'];
  const retry = typeof retryAfter === 'string' ? ` (retry after ${retryAfter} s)` : '';
  const error = new CliError(exitCode, parsed.code, `${parsed.message}${retry}`, parsed.requestId);
  if (Array.isArray(parsed.diagnostics)) error.diagnostics = parsed.diagnostics;
  return error;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  return {
    baseUrl: options.baseUrl,
    call: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const url = new URL(`${options.baseUrl.pathname.replace(/\/$/, '')}${path}`, options.baseUrl);
      const response = await send(
        url,
        options,
        method,
        body === undefined ? undefined : JSON.stringify(body),
      );
      if (response.status < 200 || response.status > 299) throw errorFromResponse(response, url);
      const parsed = parseJson(response.body);
      if (parsed === undefined) {
        throw new CliError(
          cliExitCodes.error,
          'cli.bad_response',
          `${url.pathname} answered HTTP ${response.status} with a body that is not JSON`,
        );
      }
      return parsed as T;
    },
  };
}
