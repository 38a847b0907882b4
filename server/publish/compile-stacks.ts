/**
 * The publish service's way to its validator: refuse early what can be refused early, hand the stacks
 * tree (a server directory, or a private copy of an upload) to the validator worker, and bring the
 * compiled snapshot back onto this thread as its encoded body, parsed only as bundles need it.
 */
import { VigoError } from '../core/index.ts';
import { LazySnapshot } from '../policy/index.ts';
import type { CompiledSnapshot, Diagnostic } from '../policy/index.ts';
import type { PublishImpact } from './impact.ts';
import { checkUpload, withStackDir } from './stack-source.ts';
import type { StackSource, UploadRequest } from './stack-source.ts';
import type { ValidatorPool, ValidatorResult } from './validator-pool.ts';
import type { StacksTree } from './validator-protocol.ts';
import type { ValidatorOptions } from './validator-protocol.ts';

export interface StacksCompilerDeps {
  validator: ValidatorPool;
  validatorOptions: () => ValidatorOptions;
  scratchDir: string;
  now: () => number;
  /** A snapshot already stored under this hash (the active one, when the stacks did not change). */
  storedSnapshot: (hash: string) => Promise<CompiledSnapshot | undefined>;
}

export interface CompiledStacks {
  diagnostics: Diagnostic[];
  snapshot: CompiledSnapshot;
  /** Its stored form, to store; absent when it is a snapshot already stored. */
  body?: Buffer;
  /** What it changes for the fleet, compared with the active snapshot. */
  impact: PublishImpact;
  /** What an upload said besides its files. */
  request: UploadRequest;
  /** The upload it was compiled from, to keep with the version (absent for a directory or a dry run). */
  upload?: Uint8Array;
}

/** What a publish is compared with: the active snapshot and every envoy that is not revoked. */
export interface ImpactBase {
  activeHash: string | undefined;
  hostnames: readonly string[];
  /** Where the active snapshot is stored. */
  dbFile: string;
}

export interface StacksCompiler {
  /** Every diagnostic, and the hash and size of the snapshot when nothing is an error. */
  check(source: StackSource): Promise<ValidatorResult>;
  /** The compiled snapshot and its impact, or publish.stacks_invalid with every diagnostic. */
  compile(source: StackSource, base: ImpactBase): Promise<CompiledStacks>;
}

export function stacksInvalid(diagnostics: Diagnostic[]): VigoError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  const where = first ? `${first.file}:${first.line}:${first.col}: ${first.message}` : '';
  return new VigoError(
    'publish.stacks_invalid',
    `the stacks do not validate (${errors.length} error${errors.length === 1 ? '' : 's'}); nothing was published. First: ${where}`,
    { diagnostics },
  );
}

export function createStacksCompiler(deps: StacksCompilerDeps): StacksCompiler {
  const run = (source: StackSource, wantSnapshot: boolean, base?: ImpactBase): Promise<ValidatorResult> => {
    // Refused before anything is written: a full validator queue, unsafe upload paths.
    deps.validator.assertAccepting();
    const job = (tree: StacksTree) => ({
      tree,
      options: deps.validatorOptions(),
      nowMs: deps.now(),
      wantSnapshot,
      ...(base === undefined ? {} : { impact: base }),
      ...(base?.activeHash === undefined ? {} : { unlessHash: base.activeHash }),
    });
    // An upload body goes to the worker as it arrived: parsed, checked and written there.
    if (source.kind === 'upload')
      return deps.validator.run(
        job({ kind: 'upload', body: source.body, form: source.form, scratchRoot: deps.scratchDir }),
      );
    if (source.kind === 'files') checkUpload(source.files);
    return withStackDir(source, deps.scratchDir, (dir) => deps.validator.run(job({ kind: 'dir', dir })));
  };

  return {
    check: (source) => run(source, false),

    async compile(source, base) {
      // When the result equals the active snapshot the worker does not send it back: it is stored.
      const result = await run(source, true, base);
      const validated = result.snapshot;
      if (validated === undefined || result.impact === undefined) throw stacksInvalid(result.diagnostics);
      const { diagnostics, impact } = result;
      const request = result.request ?? {};
      const upload = result.upload === undefined ? {} : { upload: result.upload };
      if (validated.encoded !== undefined) {
        const { body, index } = validated.encoded;
        return { diagnostics, impact, request, snapshot: new LazySnapshot(body, index), body, ...upload };
      }
      const stored = await deps.storedSnapshot(validated.hash);
      if (stored === undefined)
        throw new VigoError('internal', `compiled snapshot ${validated.hash} is not stored`);
      return { diagnostics, impact, request, snapshot: stored, ...upload };
    },
  };
}
