/**
 * The URL aliveness check (ValidateOptions.checkUrls, server.yaml publish.url_check): every literal
 * http(s) `source:` URL is probed once, a few at a time, each probe and all of them together within a
 * time budget. A URL that does not answer 2xx (after redirects) is an error at every place naming it; URLs
 * the budget left unprobed get a warning, so a slow mirror cannot hold a publish for long.
 */
import type { DiagnosticSink } from './diagnostics.ts';
import type { Ref } from './model.ts';

export interface UrlCheckOptions {
  /** How long one probe may wait for an answer. */
  timeoutMs: number;
  /** Probes in flight at once (8 unless given). */
  concurrency?: number;
  /** Time all probes together may take (unbounded unless given). */
  budgetMs?: number;
}

async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    let res = await fetch(url, {
      method: 'HEAD',
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 405 || res.status === 501) {
      // Some servers refuse HEAD; a GET whose body we never read answers the same question.
      res = await fetch(url, { method: 'GET', redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
    }
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
    return e.cause?.code ?? e.message;
  }
}

export async function checkUrls(urls: Ref[], options: UrlCheckOptions, sink: DiagnosticSink): Promise<void> {
  const byUrl = new Map<string, Ref[]>();
  for (const u of urls) byUrl.set(u.text, [...(byUrl.get(u.text) ?? []), u]);
  const queue = [...byUrl.keys()];
  const deadline = options.budgetMs === undefined ? Infinity : Date.now() + options.budgetMs;
  const unchecked: string[] = [];
  const worker = async (): Promise<void> => {
    for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        unchecked.push(url);
        continue;
      }
      const problem = await probe(url, Math.max(1, Math.min(options.timeoutMs, left)));
      if (problem === undefined) continue;
      for (const ref of byUrl.get(url)!) {
        sink.error(
          'url.unreachable',
          ref.at,
          `source: ${url} is not reachable (${problem})`,
          'agents download this URL when they apply the resource; fix the URL or host, or turn the check off (publish.url_check.enabled: false) where the server cannot reach it',
        );
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 8, queue.length));
  await Promise.all(Array.from({ length: lanes }, () => worker()));
  for (const url of unchecked) {
    for (const ref of byUrl.get(url)!) {
      sink.warning(
        'url.unchecked',
        ref.at,
        `source: ${url} was not probed: the URL check budget (${options.budgetMs} ms) was spent`,
        'raise publish.url_check.budget or publish.url_check.concurrency, or use fewer distinct URLs',
      );
    }
  }
}
