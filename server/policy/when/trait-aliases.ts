/**
 * Other names of top-level traits. Vigo stacks read `processors`, `mountpoints`, `loadavg`, `virtual`,
 * `filesystem` and `hardware`; the agent reports each fact once, under the name in the traits document
 * (`cpu`, `mounts`, `load`, `container`, `dmi`). A path whose first segment is not in the document is
 * tried under the other name, in both directions, so a document that uses the Vigo names (another
 * agent) answers the Vigo-TS names as well. Resolving at read time keeps the stored and transmitted
 * traits at one copy of each fact, and keeps the traits hash and the documented wire keys unchanged.
 */

/** Vigo's name → the key the reference agent reports. */
export const TRAIT_ALIASES: Readonly<Record<string, string>> = {
  processors: 'cpu',
  mountpoints: 'mounts',
  filesystem: 'mounts',
  loadavg: 'load',
  virtual: 'container',
  hardware: 'dmi',
};

const reverse = new Map<string, string[]>();
for (const [alias, key] of Object.entries(TRAIT_ALIASES)) {
  const names = reverse.get(key) ?? [];
  names.push(alias);
  reverse.set(key, names);
}

/** The other names a top-level trait key may be reported under, in the order they are tried. */
export function traitKeyAlternatives(key: string): readonly string[] {
  const target = Object.hasOwn(TRAIT_ALIASES, key) ? TRAIT_ALIASES[key] : undefined;
  if (target !== undefined) return [target, ...(reverse.get(target) ?? []).filter((n) => n !== key)];
  return reverse.get(key) ?? [];
}

/**
 * The top-level key of `traits` that answers `key`: the key itself when present, else the first
 * alternative name present; undefined when neither is reported.
 */
export function resolveTraitKey(traits: Record<string, unknown>, key: string): string | undefined {
  if (Object.hasOwn(traits, key)) return key;
  return traitKeyAlternatives(key).find((name) => Object.hasOwn(traits, name));
}
