/**
 * Force-push: targeted envoys get their full bundle at their next check-in, and the online ones check in
 * now. The force-push flags are written (and audited once) before anything is sent, so the check-in a
 * ForcePush triggers always finds its flag set; then a ForcePush goes to every envoy whose stream is open.
 * The others are told at their next check-in, where the flag defeats the no-change shortcut.
 *
 * In poll mode no stream is requested: opening one would only happen at the next check-in, which already
 * carries the bundle.
 */
import { create } from '@bufbuild/protobuf';
import { AgentStreamResponseSchema, ForcePushSchema } from '../../protocol/index.ts';
import type { JsonValue } from '../audit/index.ts';
import type { Ctx } from '../core/index.ts';
import { VigoError, actorName, traceDetails } from '../core/index.ts';
import type { EnvoyEntry, FleetAdmin, FleetIndex } from '../fleet/index.ts';
import type { StreamLink } from './live-query.ts';
import { resolveTargets } from './targets.ts';

/** Envoys named in one push's audit entry and event (all are counted). */
export const pushListedMax = 100;
/** ForcePush.reason: at most 1 KiB. */
export const pushReasonMaxBytes = 1024;

export interface ForcePushDeps {
  readonly fleet: FleetIndex;
  readonly traitsByHash: (hash: string) => unknown;
  readonly streams: Pick<StreamLink, 'send'>;
  readonly admin: Pick<FleetAdmin, 'requestPush' | 'requestPushes'>;
  readonly publish?: (data: Record<string, JsonValue>) => void;
}

export interface PushInput {
  readonly targets: readonly string[];
  readonly where?: readonly string[];
  readonly reason?: string;
}

export interface PushedEnvoy {
  envoyId: string;
  hostname: string;
}

export interface PushAnswer {
  targeted: number;
  /** A ForcePush went to their open stream: they check in now. */
  pushedNow: PushedEnvoy[];
  /** No open stream: the full bundle goes with their next check-in. */
  atNextCheckin: PushedEnvoy[];
}

export interface ForcePush {
  push(ctx: Ctx, input: PushInput): PushAnswer;
  /** One envoy by id (`fleet.envoy_not_found`, `fleet.envoy_revoked`), audited and announced on its own. */
  pushOne(
    ctx: Ctx,
    envoyId: string,
    reason?: string,
  ): { envoyId: string; forcePush: true; pushedNow: boolean };
}

/** Sent when the operator gave none; the agent logs it (who asked is in the server's audit log). */
export const defaultPushReason = 'operator force-push';

function checkedReason(reason: string | undefined): string {
  if (reason === undefined || reason === '') return defaultPushReason;
  const bytes = Buffer.byteLength(reason);
  if (bytes > pushReasonMaxBytes)
    throw new VigoError('push.reason_invalid', `reason is ${bytes} bytes; at most ${pushReasonMaxBytes}`, {
      field: 'reason',
    });
  return reason;
}

const shortList = (items: readonly string[] | undefined, max: number): string[] =>
  (items ?? []).slice(0, max).map((item) => item.slice(0, 128));

export function createForcePush(deps: ForcePushDeps): ForcePush {
  const tell = (entry: EnvoyEntry, reason: string, traceparent: string | undefined): boolean =>
    deps.streams.send(
      entry.id,
      create(AgentStreamResponseSchema, {
        kind: {
          case: 'forcePush',
          value: create(ForcePushSchema, { reason, traceparent: traceparent ?? '' }),
        },
      }),
    );

  return {
    push(ctx, input) {
      const reason = checkedReason(input.reason);
      const entries = resolveTargets(
        { fleet: deps.fleet, traitsByHash: deps.traitsByHash },
        { targets: input.targets, where: input.where ?? [] },
      );
      const listed = entries.slice(0, pushListedMax).map((entry) => entry.id);
      deps.admin.requestPushes(ctx, entries, {
        reason,
        targets: shortList(input.targets, 20),
        where: shortList(input.where, 16),
        count: entries.length,
        envoyIds: listed,
        ...traceDetails(ctx.traceparent),
      });
      const answer: PushAnswer = { targeted: entries.length, pushedNow: [], atNextCheckin: [] };
      for (const entry of entries) {
        const named = { envoyId: entry.id, hostname: entry.hostname };
        (tell(entry, reason, ctx.traceparent) ? answer.pushedNow : answer.atNextCheckin).push(named);
      }
      deps.publish?.({
        count: entries.length,
        pushedNow: answer.pushedNow.length,
        atNextCheckin: answer.atNextCheckin.length,
        envoyIds: listed,
        reason,
        by: actorName(ctx.actor),
        ...traceDetails(ctx.traceparent),
      });
      return answer;
    },
    pushOne(ctx, envoyId, reason) {
      const text = checkedReason(reason);
      const result = deps.admin.requestPush(ctx, envoyId);
      const entry = deps.fleet.get(result.envoyId);
      const pushedNow = entry !== undefined && tell(entry, text, ctx.traceparent);
      return { ...result, pushedNow };
    },
  };
}

/**
 * `admin` whose requestPush also tells an online envoy to check in now, for every caller of the fleet
 * admin (the envoy routes and pages). `push` must have been created with the unwrapped admin.
 */
export function withStreamPush(admin: FleetAdmin, push: Pick<ForcePush, 'pushOne'>): FleetAdmin {
  return { ...admin, requestPush: (ctx, id) => push.pushOne(ctx, id) };
}
