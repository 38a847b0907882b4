/**
 * What a long-lived process (the server's validator worker) carries from one validation to the next. A
 * publish usually changes a few files of a large tree, so most of the work of the previous one stands:
 *
 * - **Configcrate definitions** (CrateCarry): a configcrate file whose text is unchanged, whose `source:`
 *   files read the same, and which loaded without any diagnostic and without a secret reference (those
 *   are checked against the secrets provider on every validation), is the definition loaded before.
 * - **Configcrate instances** (InstanceCarry), below.
 *
 * Each keeps what the last validation used, nothing older.
 */
import type { CrateDef, Ref } from './model.ts';
import type { InstanceResult } from './instance.ts';
import type { SourceRead, SourceReader } from './parse-resource.ts';

/** A configcrate definition with what it was loaded from. */
export interface CarriedCrate {
  text: string;
  /** Each `source:` file it read and how it read (sourceState), in pairs. */
  sources: string[];
  /** The literal `source:` URLs it added to the stacks' URL list. */
  urls: Ref[];
  def: CrateDef;
}

/** How a `source:` file read, as one comparable string. */
export function sourceState(read: SourceRead): string {
  return read.kind === 'ok'
    ? `ok:${read.text}`
    : read.kind === 'refused'
      ? `refused:${read.reason}`
      : read.kind;
}

export class CrateCarry {
  private previous = new Map<string, CarriedCrate>();
  private current = new Map<string, CarriedCrate>();
  private taken = 0;
  /** Definitions the last load took from the carry. */
  lastTaken = 0;

  /** The definition loaded before from this file, when its text and every source: file read the same. */
  take(rel: string, text: string, readSource: SourceReader): CarriedCrate | undefined {
    const found = this.previous.get(rel);
    if (found === undefined || found.text !== text) return undefined;
    for (let i = 0; i < found.sources.length; i += 2)
      if (sourceState(readSource(found.sources[i]!)) !== found.sources[i + 1]) return undefined;
    this.current.set(rel, found);
    this.taken++;
    return found;
  }

  /** Offers a definition this validation loaded (the caller has checked it is clean). */
  keep(rel: string, carried: CarriedCrate): void {
    this.current.set(rel, carried);
  }

  /** Ends a load: what it used is what the next one may take. */
  end(): void {
    this.previous = this.current;
    this.current = new Map();
    this.lastTaken = this.taken;
    this.taken = 0;
  }
}

/**
 * Configcrate instances: every instance of a configcrate whose definition is unchanged (same fingerprint: its file and the `source:` files it read,
 * see CrateDef.fingerprint), compiled for the same values of the variables it reads and under the same
 * guardrail settings, is the instance the previous compile made, so it is taken as it is.
 *
 * Only clean instances are carried (no diagnostic of any severity, not failed), so every diagnostic is
 * reported exactly as a compile from scratch reports it. A carried instance still counts its stamps
 * against the compile's resource limit. The carry holds the instances of the last compile only: what a
 * compile does not use is dropped at its end.
 */
export class InstanceCarry {
  /** By configcrate fingerprint, then instance key. */
  private previous = new Map<string, Map<string, InstanceResult>>();
  private current = new Map<string, Map<string, InstanceResult>>();
  private settings: string | undefined;
  private taken = 0;
  /** Instances the last compile took from the carry. */
  lastTaken = 0;

  /** Starts a compile; instances compiled under other guardrail settings are dropped. */
  begin(settings: { protectedPaths: readonly string[]; protectedServices: readonly string[] }): void {
    const key = JSON.stringify([settings.protectedPaths, settings.protectedServices]);
    if (key !== this.settings) this.previous.clear();
    this.settings = key;
    this.current = new Map();
    this.taken = 0;
  }

  /** The carried instance of `crate` for this instance key, if a compile made it before. */
  take(crate: CrateDef, instanceKey: string): InstanceResult | undefined {
    if (crate.fingerprint === undefined) return undefined;
    const found = this.previous.get(crate.fingerprint)?.get(instanceKey);
    if (found === undefined) return undefined;
    this.slot(crate.fingerprint).set(instanceKey, found);
    this.taken++;
    return found;
  }

  /** Offers an instance this compile made; kept only when it is clean. */
  keep(crate: CrateDef, instanceKey: string, result: InstanceResult): void {
    if (crate.fingerprint === undefined || result.failed || result.diagnostics.length > 0) return;
    this.slot(crate.fingerprint).set(instanceKey, result);
  }

  /** Ends a compile: what it used is what the next one may take. */
  end(): void {
    this.previous = this.current;
    this.current = new Map();
    this.lastTaken = this.taken;
    this.taken = 0;
  }

  /** Instances held for the next compile. */
  get size(): number {
    let n = 0;
    for (const m of this.previous.values()) n += m.size;
    return n;
  }

  private slot(fingerprint: string): Map<string, InstanceResult> {
    let m = this.current.get(fingerprint);
    if (m === undefined) {
      m = new Map();
      this.current.set(fingerprint, m);
    }
    return m;
  }
}

/** Both carries, kept by the process across validations. */
export class CompileCarry {
  readonly crates = new CrateCarry();
  readonly instances = new InstanceCarry();
}
