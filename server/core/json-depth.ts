/**
 * Whether a parsed JSON value nests objects and arrays more than `maxDepth` deep (the top-level value
 * counting as 1). Walked without recursion: 1 MiB of "[" nests half a million deep, which JSON.parse
 * accepts but every recursive reader (canonical encoding, templates, the web UI) would overflow the stack on.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}
