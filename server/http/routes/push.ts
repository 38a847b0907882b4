/**
 * Force-push (push.execute):
 *   POST /api/v1/push   the targeted envoys get their full bundle at their next check-in; those with an
 *                       open stream are told to check in now
 */
import type { ForcePush } from '../../orchestration/index.ts';
import { pushReasonMaxBytes, targetLimits } from '../../orchestration/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

const envoyList: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['envoyId', 'hostname'],
    properties: { envoyId: { type: 'string' }, hostname: { type: 'string' } },
  },
};

const pushBody = {
  targets: {
    type: 'string-array',
    maxItems: targetLimits.maxTargets,
    maxItemLength: targetLimits.maxTargetBytes,
  },
  where: { type: 'string-array', optional: true, maxItems: targetLimits.maxWhere, maxItemLength: 1024 },
  reason: { type: 'string', optional: true, maxLength: pushReasonMaxBytes },
} as const;

export function pushRoutes(deps: { push: ForcePush }): AnyRoute[] {
  return [
    route<typeof pushBody>({
      method: 'POST',
      path: '/api/v1/push',
      summary:
        'Force-push: online targets check in now, the others get their full bundle at their next check-in',
      tag: 'orchestration',
      access: 'push.execute',
      errors: [
        'push.reason_invalid',
        'orchestration.target_invalid',
        'orchestration.target_unknown',
        'orchestration.targets_empty',
        'fleet.trait_filter',
      ],
      body: pushBody,
      response: {
        type: 'object',
        required: ['targeted', 'pushedNow', 'atNextCheckin'],
        properties: {
          targeted: { type: 'integer' },
          pushedNow: { ...envoyList, description: 'told on their open stream to check in now' },
          atNextCheckin: {
            ...envoyList,
            description: 'no open stream: the bundle goes with their next check-in',
          },
        },
      },
      handler: ({ c, ctx, body }) => c.json(deps.push.push(ctx, body)),
    }),
  ];
}
