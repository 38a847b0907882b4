/**
 * The agent's apply engine: parse a bundle document, apply it through the executors, and keep
 * snapshots of the files they change. See docs/bundle-format.md for the document.
 */
export { bundleLimits, parseBundleDocument } from './bundle-document.ts';
export type { BundleDocument, BundleResource } from './bundle-document.ts';
export { applyBundle, maxMessageBytes } from './apply.ts';
export type { ApplyOptions, ResourceOutcome, ResourceResult, RunRecord } from './apply.ts';
export { createFileSnapshotStore, defaultSnapshotRetention } from './file-snapshots.ts';
export type { FileSnapshot, FileSnapshotOptions, FileSnapshotStore } from './file-snapshots.ts';
export { createProbes, defaultCommandTimeoutMs } from './probes.ts';
export type { ProbeOptions } from './probes.ts';
