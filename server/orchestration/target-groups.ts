/**
 * Saved target groups: a selection operators name once (`web-prod` = `web-*` where `env=production`) and
 * then use as the target `@web-prod` in tasks, live queries, force-push and workflows. A group holds
 * targets and trait filters exactly as a request does; it is resolved when it is used, so it always
 * means the envoys that match now. A group cannot name another group (no cycles, no surprises).
 *
 * Groups live in SQLite (target_groups) and in memory: resolving `@name` reads no database. Saving and
 * deleting are audited in the same transaction as the change.
 */
import { appendAudit } from '../audit/index.ts';
import type { Ctx } from '../core/index.ts';
import { VigoError, actorName } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { parseSelection } from './targets.ts';

export const targetGroupLimits = { maxGroups: 1000, maxDescription: 512 } as const;

const namePattern = /^[a-z][a-z0-9_-]{0,62}$/;

export interface TargetGroup {
  name: string;
  description: string;
  targets: string[];
  where: string[];
  updatedBy: string;
  updatedAtMs: number;
}

/** What target selection needs: a group by name (without its `@`). */
export interface TargetGroupLookup {
  get(name: string): TargetGroup | undefined;
}

export const noTargetGroups: TargetGroupLookup = { get: () => undefined };

export interface TargetGroupInput {
  description?: string;
  targets: readonly string[];
  where?: readonly string[];
}

interface Row {
  name: string;
  description: string;
  targets: string;
  filters: string;
  updated_by: string;
  updated_at: number;
}

function fromRow(row: Row): TargetGroup {
  return {
    name: row.name,
    description: row.description,
    targets: JSON.parse(row.targets) as string[],
    where: JSON.parse(row.filters) as string[],
    updatedBy: row.updated_by,
    updatedAtMs: row.updated_at,
  };
}

export function isGroupName(name: string): boolean {
  return namePattern.test(name);
}

export function checkGroupName(name: string): void {
  if (!isGroupName(name))
    throw new VigoError(
      'target_group.name_invalid',
      `a target group name is 1 to 63 of a-z, 0-9, _ and -, starting with a letter; got ${JSON.stringify(name.slice(0, 80))}`,
      { field: 'name' },
    );
}

export class TargetGroupStore implements TargetGroupLookup {
  private readonly byName = new Map<string, TargetGroup>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    const rows = store.db.prepare('SELECT * FROM target_groups').all() as Row[];
    for (const row of rows) this.byName.set(row.name, fromRow(row));
  }

  get(name: string): TargetGroup | undefined {
    return this.byName.get(name);
  }

  list(): TargetGroup[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  one(name: string): TargetGroup {
    const group = this.byName.get(name);
    if (group === undefined)
      throw new VigoError('target_group.not_found', `no target group is named ${JSON.stringify(name)}`, {
        name,
      });
    return group;
  }

  /** Creates or replaces a group: its targets and filters parse as a request's, and name no group. */
  save(ctx: Ctx, name: string, input: TargetGroupInput): TargetGroup {
    checkGroupName(name);
    const description = input.description ?? '';
    if (description.length > targetGroupLimits.maxDescription)
      throw new VigoError(
        'target_group.invalid',
        `a description is at most ${targetGroupLimits.maxDescription} characters`,
        { field: 'description' },
      );
    const nested = input.targets.find((t) => t.startsWith('@'));
    if (nested !== undefined)
      throw new VigoError(
        'target_group.invalid',
        `a target group cannot name another group (${JSON.stringify(nested.slice(0, 80))}); list its targets instead`,
        { field: 'targets' },
      );
    parseSelection({ targets: input.targets, where: input.where ?? [] });
    if (!this.byName.has(name) && this.byName.size >= targetGroupLimits.maxGroups)
      throw new VigoError(
        'target_group.limit',
        `${this.byName.size} target groups exist, the most the server keeps; delete unused ones first`,
      );
    const group: TargetGroup = {
      name,
      description,
      targets: [...input.targets],
      where: [...(input.where ?? [])],
      updatedBy: actorName(ctx.actor),
      updatedAtMs: this.now(),
    };
    this.store.tx((db) => {
      db.prepare(
        `INSERT INTO target_groups (name, description, targets, filters, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, targets = excluded.targets,
           filters = excluded.filters, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      ).run(
        name,
        description,
        JSON.stringify(group.targets),
        JSON.stringify(group.where),
        group.updatedBy,
        group.updatedAtMs,
      );
      appendAudit(db, {
        actor: group.updatedBy,
        action: 'target_group.saved',
        target: `target_group:${name}`,
        details: { targets: group.targets, where: group.where, replaced: this.byName.has(name) },
      });
    });
    this.byName.set(name, group);
    return group;
  }

  delete(ctx: Ctx, name: string): void {
    const group = this.one(name);
    this.store.tx((db) => {
      db.prepare('DELETE FROM target_groups WHERE name = ?').run(name);
      appendAudit(db, {
        actor: actorName(ctx.actor),
        action: 'target_group.deleted',
        target: `target_group:${name}`,
        details: { targets: group.targets, where: group.where },
      });
    });
    this.byName.delete(name);
  }
}
