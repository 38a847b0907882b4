/**
 * Saved target groups, named as `@name` wherever targets are given:
 *   GET    /api/v1/target-groups         fleet.read    every group
 *   GET    /api/v1/target-groups/{name}  fleet.read    one group
 *   POST   /api/v1/target-groups         push.execute  create or replace one by name (audited)
 *   DELETE /api/v1/target-groups/{name}  push.execute  delete it (audited)
 */
import type { TargetGroupStore } from '../../orchestration/index.ts';
import { targetGroupLimits, targetLimits } from '../../orchestration/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

const groupSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'description', 'targets', 'where', 'updatedBy', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    targets: { type: 'array', items: { type: 'string' } },
    where: { type: 'array', items: { type: 'string' } },
    updatedBy: { type: 'string' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const saveBody = {
  name: { type: 'string', maxLength: 63 },
  description: { type: 'string', optional: true, maxLength: targetGroupLimits.maxDescription },
  targets: {
    type: 'string-array',
    maxItems: targetLimits.maxTargets,
    maxItemLength: targetLimits.maxTargetBytes,
  },
  where: { type: 'string-array', optional: true, maxItems: targetLimits.maxWhere, maxItemLength: 1024 },
} as const;

function view(group: ReturnType<TargetGroupStore['one']>): Record<string, unknown> {
  return {
    name: group.name,
    description: group.description,
    targets: group.targets,
    where: group.where,
    updatedBy: group.updatedBy,
    updatedAt: new Date(group.updatedAtMs).toISOString(),
  };
}

export function targetGroupRoutes(deps: { groups: TargetGroupStore }): AnyRoute[] {
  const tag = 'orchestration';
  return [
    route({
      method: 'GET',
      path: '/api/v1/target-groups',
      summary: 'Saved target groups, by name',
      tag,
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: groupSchema } },
      },
      handler: ({ c }) => c.json({ items: deps.groups.list().map(view) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/target-groups/{name}',
      summary: 'One saved target group',
      tag,
      access: 'fleet.read',
      errors: ['target_group.not_found'],
      response: groupSchema,
      handler: ({ c, param }) => c.json(view(deps.groups.one(param('name')))),
    }),
    route<typeof saveBody>({
      method: 'POST',
      path: '/api/v1/target-groups',
      summary: 'Save a target group: targets and trait filters as a task takes them, used as @name',
      tag,
      access: 'push.execute',
      errors: [
        'target_group.name_invalid',
        'target_group.invalid',
        'target_group.limit',
        'orchestration.target_invalid',
        'fleet.trait_filter',
      ],
      body: saveBody,
      response: groupSchema,
      handler: ({ c, ctx, body }) => c.json(view(deps.groups.save(ctx, body.name, body))),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/target-groups/{name}',
      summary: 'Delete a saved target group',
      tag,
      access: 'push.execute',
      errors: ['target_group.not_found'],
      response: groupSchema,
      handler: ({ c, ctx, param }) => {
        const group = deps.groups.one(param('name'));
        deps.groups.delete(ctx, group.name);
        return c.json(view(group));
      },
    }),
  ];
}
