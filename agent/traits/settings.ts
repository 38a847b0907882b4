/** The `traits:` section of the agent config, and its defaults; a module of its own so the config loader needs no collector. */
export type { TraitSettings } from './types.ts';
export { defaultTraitSettings } from './types.ts';

/** At most this many certificate files in `traits.cert_paths`. */
export const maxCertPaths = 64;
