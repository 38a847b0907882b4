/** Optional aliveness check of literal `source:` URLs (ValidateOptions.checkUrls). */
import type { DiagnosticSink } from './diagnostics.ts';
import type { Ref } from './model.ts';

const concurrency = 8;

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

export async function checkUrls(urls: Ref[], timeoutMs: number, sink: DiagnosticSink): Promise<void> {
  const byUrl = new Map<string, Ref[]>();
  for (const u of urls) byUrl.set(u.text, [...(byUrl.get(u.text) ?? []), u]);
  const queue = [...byUrl.keys()];
  const worker = async (): Promise<void> => {
    for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
      const problem = await probe(url, timeoutMs);
      if (problem === undefined) continue;
      for (const ref of byUrl.get(url)!) {
        sink.error(
          'url.unreachable',
          ref.at,
          `source: ${url} is not reachable (${problem})`,
          'agents download this URL when they apply the resource; fix the URL or host, or run validation without URL checks',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, () => worker()));
}
