/**
 * The last signed bundle on disk. It is verified — signature with the pinned bundle key, then expiry —
 * every time it is read, so a bundle edited on disk or past its expiry is never applied.
 */
import fs from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { SignedBundleSchema, publicKeyFromRaw, verifyBundle } from '../../protocol/index.ts';
import type { SignedBundle } from '../../protocol/index.ts';
import { parseBundleDocument } from '../engine/index.ts';
import type { BundleDocument } from '../engine/index.ts';
import { writeFileAtomic } from './state-dir.ts';

interface StoredBundle {
  payload: string;
  signature: string;
  keyId: string;
  receivedAtMs: number;
}

export type CachedBundle =
  | { state: 'none' }
  | { state: 'valid'; document: BundleDocument; bundle: SignedBundle; receivedAtMs: number }
  | { state: 'expired'; document: BundleDocument; receivedAtMs: number }
  | { state: 'invalid'; reason: string };

export class BundleCache {
  readonly #file: string;
  readonly #publicKey;

  constructor(file: string, bundlePublicKeyBase64: string) {
    this.#file = file;
    this.#publicKey = publicKeyFromRaw(Buffer.from(bundlePublicKeyBase64, 'base64'));
  }

  /** Verifies a bundle from the server; throws without storing anything when it does not verify. */
  accept(bundle: SignedBundle, nowMs: number): BundleDocument {
    const document = this.#verify(bundle, nowMs);
    if (typeof document === 'string') throw new Error(`the server sent a bundle that ${document}`);
    const stored: StoredBundle = {
      payload: Buffer.from(bundle.payload).toString('base64'),
      signature: Buffer.from(bundle.signature).toString('base64'),
      keyId: bundle.keyId,
      receivedAtMs: nowMs,
    };
    writeFileAtomic(this.#file, JSON.stringify(stored));
    return document;
  }

  read(nowMs: number): CachedBundle {
    let stored: StoredBundle;
    try {
      stored = JSON.parse(fs.readFileSync(this.#file, 'utf8')) as StoredBundle;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'none' };
      return { state: 'invalid', reason: `the cached bundle is unreadable: ${(err as Error).message}` };
    }
    const bundle = create(SignedBundleSchema, {
      payload: Buffer.from(String(stored.payload), 'base64'),
      signature: Buffer.from(String(stored.signature), 'base64'),
      keyId: String(stored.keyId),
    });
    const result = this.#verify(bundle, nowMs);
    if (typeof result !== 'string')
      return { state: 'valid', document: result, bundle, receivedAtMs: stored.receivedAtMs };
    if (result.startsWith('expired')) {
      const document = parseBundleDocument(JSON.parse(Buffer.from(bundle.payload).toString('utf8')));
      return { state: 'expired', document, receivedAtMs: stored.receivedAtMs };
    }
    return { state: 'invalid', reason: `the cached bundle ${result}` };
  }

  /** The document, or why it must not be applied. */
  #verify(bundle: SignedBundle, nowMs: number): BundleDocument | string {
    if (!verifyBundle(this.#publicKey, bundle)) return 'does not verify with the pinned bundle-signing key';
    let document: BundleDocument;
    try {
      document = parseBundleDocument(JSON.parse(Buffer.from(bundle.payload).toString('utf8')));
    } catch (err) {
      return `is not a valid bundle document: ${(err as Error).message}`;
    }
    if (document.expires_at_ms !== 0 && document.expires_at_ms <= nowMs)
      return `expired at ${new Date(document.expires_at_ms).toISOString()}`;
    return document;
  }
}
