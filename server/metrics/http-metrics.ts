/**
 * HTTPS request metrics. Labels are bounded: the route is the template from the route table
 * (`/api/v1/envoys/{id}`, never the raw path), `unmatched` for requests no route answers; the method is one
 * of the HTTP methods or `other`; the status is its class (`2xx` … `5xx`). Every route of the table starts
 * at zero for each class, so a rate or an absence alert works before the first request.
 */
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export const unmatchedRoute = 'unmatched';
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const statusClasses = ['2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof statusClasses)[number];

/** Seconds; from a cached page (well under a millisecond) to a slow validation or a long export. */
export const httpDurationBucketsSeconds = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export interface HttpMetrics {
  /** One answered request: the route template it matched (undefined: none), its method, status and duration. */
  observe(route: string | undefined, method: string, status: number, seconds: number): void;
}

export function methodLabel(method: string): string {
  return knownMethods.has(method) ? method : 'other';
}

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

export function createHttpMetrics(
  registry: Registry,
  routes: readonly { readonly method: string; readonly path: string }[],
): HttpMetrics {
  const requests = new Counter({
    name: 'vigo_http_requests_total',
    help: 'HTTPS requests answered, by route template, method and status class.',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigo_http_request_duration_seconds',
    help: 'Time from receiving an HTTPS request to its response (headers sent for a stream), by route template and method.',
    labelNames: ['route', 'method'],
    buckets: httpDurationBucketsSeconds,
    registers: [registry],
  });
  for (const r of routes)
    for (const status of statusClasses) requests.inc({ route: r.path, method: r.method, status }, 0);
  for (const status of statusClasses) requests.inc({ route: unmatchedRoute, method: 'GET', status }, 0);
  return {
    observe(route, method, status, seconds) {
      const labels = { route: route ?? unmatchedRoute, method: methodLabel(method) };
      requests.inc({ ...labels, status: statusClass(status) });
      duration.observe(labels, seconds);
    },
  };
}
