/**
 * Runs the collectors: all at once, each under its own timeout. A collector that throws, times out
 * or returns something that is not a JSON object contributes an error and its last good value, so
 * one broken collector never costs the others. Stable collectors are cached in memory and in the
 * cache file for stableTtlMs; volatile ones run on every collect().
 */
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { VigoError } from '../../server/core/index.ts';
import { traitKeyAlternatives } from '../../server/policy/when/index.ts';
import { runCommand } from '../system/run-command.ts';
import { loadTraitCache, saveTraitCache } from './cache.ts';
import type { CachedValue } from './cache.ts';
import { canonicalJson } from './canonical-json.ts';
import { defaultTraitCollectors } from './collectors.ts';
import { readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv, TraitError, Traits } from './types.ts';

export const defaultStableTtlMs = 60 * 60 * 1000;

export function defaultTraitEnv(): TraitEnv {
  return {
    rootDir: '/',
    procRoot: '/proc',
    sysRoot: '/sys',
    etcRoot: '/etc',
    runRoot: '/run',
    run: runCommand,
    networkInterfaces,
  };
}

export interface TraitSourceOptions {
  /** Where stable traits persist across agent restarts (JSON, mode 0600); none when absent. */
  readonly cacheFile?: string;
  /** Overrides of the default roots and command runner. */
  readonly env?: Partial<TraitEnv>;
  readonly collectors?: readonly TraitCollector[];
  /** Clock for the stable TTL, in milliseconds since the epoch. */
  readonly now?: () => number;
  readonly stableTtlMs?: number;
  /**
   * Whether due background collectors start (default true). A one-off run (`vigo run --once`) sets false:
   * it exits before a scan could finish, so it reports their cached value and leaves the refresh to the
   * daemon or `vigo traits`.
   */
  readonly startBackground?: boolean;
  /**
   * How long after the source is made its first background refresh may start (default 0). The daemon
   * waits a while, so a host's start-up is not joined by a package-manager scan, and an agent that runs
   * for less than that (or a fleet restarted at once) reports the cached value meanwhile.
   */
  readonly backgroundDelayMs?: number;
}

export interface CollectOptions {
  /** Run the stable collectors too, whatever their age (a live query wants fresh values). */
  readonly refreshStable?: boolean;
  /**
   * Run only the collector that reported this top-level key last time, when one did (otherwise all run);
   * the result then holds that collector's traits alone.
   */
  readonly onlyKey?: string;
  /** Wait for background collectors that are due instead of reporting their last value (`vigo traits`). */
  readonly awaitBackground?: boolean;
}

export interface TraitRun {
  /** The merged tree; the caller's own copy. */
  readonly traits: Traits;
  /** In collector order; empty when every collector answered. */
  readonly errors: readonly TraitError[];
  /** Which collector reported each top-level key. */
  readonly owners?: Readonly<Record<string, string>>;
}

export interface TraitSource {
  /** Never rejects. Calls are serialized: a second call starts when the first has finished. */
  collect(options?: CollectOptions): Promise<TraitRun>;
  /** Kills the commands of collectors still running (a background scan); the agent is stopping. */
  close?(): void;
}

type Outcome = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkedValue(value: unknown): Outcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, message: 'returned something other than an object of traits' };
  try {
    canonicalJson(value);
  } catch (err) {
    return { ok: false, message: `returned traits that are not JSON: ${errorText(err)}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function validateOptions(collectors: readonly TraitCollector[], stableTtlMs: number): void {
  const fail = (message: string): never => {
    throw new VigoError('config.invalid', message);
  };
  if (!Number.isFinite(stableTtlMs) || stableTtlMs < 0)
    fail(`stableTtlMs must be a number of milliseconds >= 0, got ${stableTtlMs}`);
  const seen = new Set<string>();
  for (const c of collectors) {
    if (c.name === '' || seen.has(c.name))
      fail(`trait collector names must be unique and not empty; "${c.name}" is not`);
    if (!Number.isFinite(c.timeoutMs) || c.timeoutMs <= 0)
      fail(`trait collector "${c.name}" needs a timeoutMs > 0, got ${c.timeoutMs}`);
    seen.add(c.name);
  }
}

function withDefinedValues(env: Partial<TraitEnv>): Partial<TraitEnv> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

interface CollectorResult {
  /** The collector's traits: fresh, cached, or its last good value after a failure (undefined if none). */
  readonly value: Record<string, unknown> | undefined;
  readonly error: string | null;
  /** A stable collector ran successfully: the cache file needs writing. */
  readonly refreshedStable: boolean;
}

class TraitRunner implements TraitSource {
  private readonly lastGood = new Map<string, CachedValue>();
  /** Collectors abandoned by a timeout that are still running: not started again until they settle. */
  private readonly stillRunning = new Set<string>();
  private readonly stableNames: ReadonlySet<string>;
  /** Background refreshes under way, by collector name. */
  private readonly background = new Map<string, Promise<void>>();
  /** Errors of background refreshes, reported by the next collect(). */
  private backgroundErrors: TraitError[] = [];
  private bootId: string | null = null;
  private loaded = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly collectors: readonly TraitCollector[],
    private readonly env: TraitEnv,
    private readonly now: () => number,
    private readonly stableTtlMs: number,
    private readonly cacheFile: string | undefined,
    private readonly startBackground: boolean,
    private readonly stopping: AbortController,
    /** Before this time (the `now` clock) no background refresh starts unless one is awaited. */
    private readonly backgroundFromMs: number,
  ) {
    this.stableNames = new Set(collectors.filter((c) => !c.volatile).map((c) => c.name));
  }

  close(): void {
    this.stopping.abort();
  }

  collect(options: CollectOptions = {}): Promise<TraitRun> {
    const run = this.queue.then(() =>
      this.runOnce(options.refreshStable === true, options.onlyKey, options.awaitBackground === true),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runOnce(
    refreshStable: boolean,
    onlyKey: string | undefined,
    awaitBackground: boolean,
  ): Promise<TraitRun> {
    const errors = await this.loadOnce();
    errors.push(...this.backgroundErrors.splice(0));
    const owner = onlyKey === undefined ? undefined : this.ownerOf(onlyKey);
    const chosen = owner === undefined ? this.collectors : this.collectors.filter((c) => c.name === owner);
    const results = await Promise.all(chosen.map((c) => this.valueOf(c, refreshStable, awaitBackground)));
    const merged = new Map<string, unknown>();
    const owners = new Map<string, string>();
    results.forEach(({ value, error }, i) => {
      const name = chosen[i]!.name;
      if (error !== null) errors.push({ collector: name, message: error });
      for (const [key, v] of Object.entries(value ?? {})) {
        const owner = owners.get(key);
        if (owner !== undefined) {
          errors.push({
            collector: name,
            message: `trait "${key}" is already reported by "${owner}"; ignored`,
          });
          continue;
        }
        owners.set(key, name);
        merged.set(key, v);
      }
    });
    if (results.some((r) => r.refreshedStable)) errors.push(...(await this.saveStable()));
    return {
      traits: structuredClone(Object.fromEntries(merged)),
      errors,
      owners: Object.fromEntries(owners),
    };
  }

  /** The first collector (in merge order) whose last good value has `key`, or has it under another name. */
  private ownerOf(key: string): string | undefined {
    for (const name of [key, ...traitKeyAlternatives(key)]) {
      const owner = this.collectors.find((c) => Object.hasOwn(this.lastGood.get(c.name)?.value ?? {}, name));
      if (owner !== undefined) return owner.name;
    }
    return undefined;
  }

  private async loadOnce(): Promise<TraitError[]> {
    if (this.loaded) return [];
    this.loaded = true;
    try {
      const text = await readTextOrNull(join(this.env.procRoot, 'sys/kernel/random/boot_id'));
      this.bootId = text?.trim() || null;
    } catch {
      this.bootId = null;
    }
    if (this.cacheFile === undefined) return [];
    const { entries, problem } = await loadTraitCache(this.cacheFile, this.bootId);
    for (const [name, entry] of entries) if (this.stableNames.has(name)) this.lastGood.set(name, entry);
    return problem === null ? [] : [{ collector: 'cache', message: problem }];
  }

  private async valueOf(
    c: TraitCollector,
    refreshStable: boolean,
    awaitBackground: boolean,
  ): Promise<CollectorResult> {
    const cached = this.lastGood.get(c.name);
    const ageMs = cached === undefined ? -1 : this.now() - cached.collectedAtMs;
    // A negative age (the clock went back) counts as stale.
    if (!c.volatile && !refreshStable && cached !== undefined && ageMs >= 0 && ageMs < this.stableTtlMs)
      return { value: cached.value, error: null, refreshedStable: false };
    if (c.background === true && !c.volatile) {
      // A closed source starts nothing more: the agent is stopping.
      const mayStart = this.startBackground && this.now() >= this.backgroundFromMs;
      if ((!mayStart && !awaitBackground) || this.stopping.signal.aborted)
        return { value: cached?.value, error: null, refreshedStable: false };
      const refresh = this.refreshInBackground(c);
      if (!awaitBackground) return { value: cached?.value, error: null, refreshedStable: false };
      await refresh;
      const failed = this.backgroundErrors.filter((e) => e.collector === c.name);
      this.backgroundErrors = this.backgroundErrors.filter((e) => e.collector !== c.name);
      return {
        value: this.lastGood.get(c.name)?.value,
        error: failed.map((e) => e.message).join('; ') || null,
        refreshedStable: false,
      };
    }
    const outcome = await this.runCollector(c);
    if (!outcome.ok) return { value: cached?.value, error: outcome.message, refreshedStable: false };
    this.lastGood.set(c.name, { collectedAtMs: this.now(), value: outcome.value });
    return { value: outcome.value, error: null, refreshedStable: !c.volatile };
  }

  /** Starts a refresh of a background collector unless one is under way; it saves the cache when done. */
  private refreshInBackground(c: TraitCollector): Promise<void> {
    const running = this.background.get(c.name);
    if (running !== undefined) return running;
    const refresh = this.runCollector(c)
      .then(async (outcome) => {
        if (!outcome.ok) {
          this.backgroundErrors.push({ collector: c.name, message: outcome.message });
          return;
        }
        this.lastGood.set(c.name, { collectedAtMs: this.now(), value: outcome.value });
        this.backgroundErrors.push(...(await this.saveStable()));
      })
      .finally(() => this.background.delete(c.name));
    this.background.set(c.name, refresh);
    return refresh;
  }

  private async runCollector(c: TraitCollector): Promise<Outcome> {
    if (this.stillRunning.has(c.name))
      return {
        ok: false,
        message: 'its run from an earlier collect() has not finished yet; not started again',
      };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, message: `timed out after ${c.timeoutMs} ms` }),
        c.timeoutMs,
      );
    });
    this.stillRunning.add(c.name);
    // The async wrapper turns a collector that throws synchronously into a rejection like any other.
    const work = (async () => checkedValue(await c.collect(this.env)))()
      .catch((err: unknown): Outcome => ({ ok: false, message: errorText(err) }))
      .finally(() => this.stillRunning.delete(c.name));
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async saveStable(): Promise<TraitError[]> {
    if (this.cacheFile === undefined) return [];
    const stable = new Map([...this.lastGood].filter(([name]) => this.stableNames.has(name)));
    try {
      await saveTraitCache(this.cacheFile, this.bootId, stable);
      return [];
    } catch (err) {
      return [
        { collector: 'cache', message: `cannot write the traits cache ${this.cacheFile}: ${errorText(err)}` },
      ];
    }
  }
}

/** A trait source over the given collectors (default: all Linux collectors) and roots (default: this machine). */
export function createTraitCollector(options: TraitSourceOptions = {}): TraitSource {
  const collectors = options.collectors ?? defaultTraitCollectors;
  const stableTtlMs = options.stableTtlMs ?? defaultStableTtlMs;
  validateOptions(collectors, stableTtlMs);
  const stopping = new AbortController();
  // The machine's commands stop with the source (close()); a test's runner is its own business.
  const run: TraitEnv['run'] = (file, args, runOptions) =>
    runCommand(file, args, { ...runOptions, signal: stopping.signal });
  const env: TraitEnv = { ...defaultTraitEnv(), run, ...withDefinedValues(options.env ?? {}) };
  const now = options.now ?? Date.now;
  return new TraitRunner(
    collectors,
    env,
    now,
    stableTtlMs,
    options.cacheFile,
    options.startBackground !== false,
    stopping,
    now() + (options.backgroundDelayMs ?? 0),
  );
}
