/**
 * Per-entry Merkle root (docs/bundle-format.md "Merkle root"): leaves are, in order, the entry's
 * meta (observe_only), its merged vars, its resource graph (topological order and cross-configcrate
 * links), then one leaf per configcrate (name, instance hash, role case guard), then — only for an
 * entry that carries named tasks — one leaf of those tasks' definitions, then — only when the stacks
 * define named queries, which every entry carries — one leaf of the queries. Identical leaves are hashed
 * once per compile.
 */
import { leafHash, merkleRoot } from './canonical.ts';
import type { CompiledQuery } from './parse-queries.ts';
import type { CompiledTask } from './parse-tasks.ts';
import type { CompiledEntry, EntryLink } from './types.ts';

export type MerkleInput = Pick<
  CompiledEntry,
  'observeOnly' | 'vars' | 'configcrates' | 'order' | 'links' | 'tasks'
>;

export function graphLeaf(order: readonly string[], links: readonly EntryLink[]): Buffer {
  return leafHash('graph', { order, links });
}

export class MerkleBuilder {
  private readonly crateLeaves = new Map<string, Buffer>();
  private readonly metaLeaves = new Map<boolean, Buffer>();
  private readonly taskLeaves = new Map<string, Buffer>();

  private readonly queryLeaf: Buffer | undefined;

  /** `tasks`: the snapshot's named tasks, which entries' `tasks` lists name; `queries`: its named queries. */
  constructor(
    private readonly tasks: Readonly<Record<string, CompiledTask>> = {},
    queries: Readonly<Record<string, CompiledQuery>> = {},
  ) {
    this.queryLeaf = Object.keys(queries).length === 0 ? undefined : leafHash('queries', queries);
  }

  root(entry: MerkleInput, graph: Buffer = graphLeaf(entry.order, entry.links)): string {
    let meta = this.metaLeaves.get(entry.observeOnly);
    if (!meta) {
      meta = leafHash('meta', { observe_only: entry.observeOnly });
      this.metaLeaves.set(entry.observeOnly, meta);
    }
    const leaves = [meta, leafHash('vars', entry.vars), graph];
    for (const c of entry.configcrates) {
      // The instance hash already covers the configcrate name.
      const key = c.when === null ? c.instance : `${c.instance}\0${c.when}`;
      let leaf = this.crateLeaves.get(key);
      if (!leaf) {
        leaf = leafHash('configcrate', { instance: c.instance, name: c.name, when: c.when });
        this.crateLeaves.set(key, leaf);
      }
      leaves.push(leaf);
    }
    if (entry.tasks !== undefined && entry.tasks.length > 0) leaves.push(this.taskLeaf(entry.tasks));
    if (this.queryLeaf !== undefined) leaves.push(this.queryLeaf);
    return merkleRoot(leaves);
  }

  private taskLeaf(names: readonly string[]): Buffer {
    const key = names.join('\0');
    let leaf = this.taskLeaves.get(key);
    if (!leaf) {
      leaf = leafHash(
        'tasks',
        names.map((name) => [name, this.tasks[name] ?? null]),
      );
      this.taskLeaves.set(key, leaf);
    }
    return leaf;
  }
}
