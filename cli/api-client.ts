/**
 * vigocli's HTTPS client for the REST API: trusts only the server's CA, sends the bearer token, and
 * turns every failure into a CliError with the documented exit code.
 */
import { get, request } from 'node:https';
import { CliError, cliExitCodes } from './errors.ts';

export interface ApiClientOptions {
  readonly baseUrl: URL;
  /** Read lazily, so commands and errors that never reach the network need no CA file. */
  readonly caPem: () => string;
  /** Undefined sends no credential (logging in). */
  readonly token: () => string | undefined;
  readonly timeoutMs?: number;
}

export interface ApiClient {
  readonly baseUrl: URL;
  /** `timeoutMs`: longest silence before giving up, for calls the server answers late on purpose. */
  call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T>;
  /**
   * GETs a streaming body and hands it over line by line. Resolves when the server ends the body or
   * `signal` aborts; rejects with a CliError when the request is refused or the connection is lost.
   */
  streamLines(request: StreamRequest): Promise<void>;
  /**
   * POSTs and hands a 2xx response's body, as bytes, to `consume` (with its headers); resolves with what
   * `consume` returns once the body ended complete, and rejects when the connection is cut or the server
   * refuses.
   */
  download<T>(request: DownloadRequest<T>): Promise<T>;
}

export interface DownloadRequest<T> {
  readonly path: string;
  /** Longest silence before the transfer counts as lost (the server may work a while before it sends). */
  readonly idleTimeoutMs: number;
  readonly consume: (
    body: NodeJS.ReadableStream & AsyncIterable<Buffer>,
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ) => Promise<T>;
}

export interface StreamRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Longest silence (no data, not even a keep-alive) before the connection counts as lost. */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal;
  /** The server accepted the request: a 2xx status and headers arrived. */
  readonly onOpen: () => void;
  /** One complete line of the body, without its line ending. */
  readonly onLine: (line: string) => void;
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

function requestHeaders(
  options: ApiClientOptions,
  base: Readonly<Record<string, string>>,
): Record<string, string> {
  const headers: Record<string, string> = { ...base };
  const token = options.token();
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return headers;
}

function send(
  url: URL,
  options: ApiClientOptions,
  method: string,
  body: string | undefined,
  timeoutMs: number | undefined,
): Promise<RawResponse> {
  const headers = requestHeaders(options, { accept: 'application/json' });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const ca = options.caPem();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ca, agent: false, timeout: timeoutMs ?? options.timeoutMs ?? 30_000 },
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

function apiUrl(options: ApiClientOptions, path: string): URL {
  return new URL(`${options.baseUrl.pathname.replace(/\/$/, '')}${path}`, options.baseUrl);
}

const maxLineBytes = 1024 * 1024;
const maxErrorBodyBytes = 64 * 1024;

/** Splits a byte stream into lines; a line longer than `maxLineBytes` is a broken server, not data. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > maxLineBytes) throw new Error(`a line longer than ${maxLineBytes} bytes`);
  };
}

function streamLines(options: ApiClientOptions, request: StreamRequest): Promise<void> {
  const url = apiUrl(options, request.path);
  const headers = requestHeaders(options, request.headers);
  const ca = options.caPem();
  return new Promise((resolve, reject) => {
    if (request.signal.aborted) return resolve();
    const req = get(url, { headers, ca, agent: false, timeout: request.idleTimeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxErrorBodyBytes) chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const error = errorFromResponse({ status, headers: res.headers, body }, url);
          // 5xx (a draining server, a proxy whose upstream is down) is "not reachable right now", which
          // a follower retries; 4xx would be refused again.
          reject(
            status >= 500
              ? new CliError(cliExitCodes.unreachable, error.code, error.message, error.requestId)
              : error,
          );
        });
        return;
      }
      request.onOpen();
      const split = lineSplitter(request.onLine);
      // Decoding in the stream keeps a multi-byte character split across two chunks intact.
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        try {
          split(chunk);
        } catch (err) {
          reject(
            err instanceof CliError
              ? err
              : new CliError(
                  cliExitCodes.error,
                  'cli.bad_response',
                  `${url.pathname} sent ${(err as Error).message}`,
                ),
          );
          req.destroy();
        }
      });
      res.on('error', (err) => reject(transportError(url, err)));
      // 'close' without a complete body: the connection dropped (server stopped, network cut).
      res.on('close', () => {
        if (res.complete || request.signal.aborted) resolve();
        else reject(transportError(url, new Error('the connection was cut mid-stream')));
      });
    });
    const onAbort = (): void => {
      req.destroy();
      resolve();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => request.signal.removeEventListener('abort', onAbort));
    req.on('timeout', () => {
      reject(transportError(url, new Error(`nothing received for ${request.idleTimeoutMs} ms`)));
      req.destroy();
    });
    req.on('error', (err) => {
      if (request.signal.aborted) resolve();
      else reject(transportError(url, err));
    });
  });
}

function download<T>(options: ApiClientOptions, spec: DownloadRequest<T>): Promise<T> {
  const url = apiUrl(options, spec.path);
  const headers = requestHeaders(options, { accept: 'application/octet-stream, application/json' });
  const ca = options.caPem();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers, ca, agent: false, timeout: spec.idleTimeoutMs },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= maxErrorBodyBytes) chunks.push(chunk);
          });
          res.on('end', () =>
            reject(
              errorFromResponse(
                { status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') },
                url,
              ),
            ),
          );
          return;
        }
        let cut = false;
        res.on('close', () => {
          if (!res.complete) cut = true;
        });
        spec.consume(res, res.headers).then(
          (value) => {
            if (cut || !res.complete)
              reject(transportError(url, new Error('the connection was cut mid-transfer')));
            else resolve(value);
          },
          (err: unknown) => {
            req.destroy();
            reject(
              cut || !(err instanceof Error)
                ? transportError(url, new Error('the connection was cut mid-transfer'))
                : err,
            );
          },
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(
        Object.assign(new Error(`nothing received for ${spec.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
      ),
    );
    req.on('error', (err) => reject(transportError(url, err)));
    req.end();
  });
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  return {
    baseUrl: options.baseUrl,
    download: (spec) => download(options, spec),
    streamLines: (request) => streamLines(options, request),
    call: async <T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> => {
      const url = apiUrl(options, path);
      const response = await send(
        url,
        options,
        method,
        body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
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
