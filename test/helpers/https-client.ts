/** A small HTTPS client that trusts a given CA, for talking to a real vigosrv in tests. */
import { request } from 'node:https';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = unknown>(): T;
}

export interface HttpsRequestOptions {
  ca: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  servername?: string;
  /** The local address to connect from (a 127.0.0.x address gives a test its own rate-limit budget). */
  localAddress?: string;
  /** Called once the whole body has been handed to the network. */
  onSent?: () => void;
}

export function httpsRequest(url: string, options: HttpsRequestOptions): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: options.headers,
        servername: options.servername,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body) as T,
          });
        });
      },
    );
    req.on('error', reject);
    if (options.onSent !== undefined) req.on('finish', options.onSent);
    req.end(options.body);
  });
}
