/**
 * Orchestration wired to the agent streams, the event bus, the metrics and the active configuration: saved
 * target groups, live queries, force-push, tasks and workflows. The fleet admin every route and page uses
 * comes back wrapped, so a force-push from anywhere also reaches an online envoy's stream at once. Task and
 * workflow runs left running by the last process are resumed.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { FleetAdmin, FleetIndex } from '../fleet/index.ts';
import {
  TargetGroupStore,
  createForcePush,
  createLiveQueries,
  createTaskService,
  createWorkflowService,
  withStreamPush,
} from '../orchestration/index.ts';
import type {
  ForcePush,
  LiveQueries,
  LiveQueryDeps,
  StreamLink,
  TaskService,
  TaskServiceDeps,
  WorkflowService,
  WorkflowServiceDeps,
} from '../orchestration/index.ts';
import type { Store } from '../store/index.ts';

export interface OrchestrationParts {
  readonly fleet: FleetIndex;
  /** The fleet admin as created, without the stream push. */
  readonly fleetAdmin: FleetAdmin;
  readonly streams: StreamLink & TaskServiceDeps['streams'];
  readonly store: Store;
  readonly bus: EventBus;
  readonly connection: () => 'held' | 'poll';
  readonly log: Logger;
  readonly registry: Registry;
  /** The named queries of the active configuration. */
  readonly namedQueries: LiveQueryDeps['namedQueries'];
  readonly dataDir: string;
  readonly namedTasks: TaskServiceDeps['namedTasks'];
  readonly workflows: WorkflowServiceDeps['workflows'];
  readonly activeVersion: WorkflowServiceDeps['activeVersion'];
  /** The publish service, announcing on the bus (a workflow's publish step goes through it). */
  readonly publish: WorkflowServiceDeps['publish'];
  /** Registers what to stop at shutdown. */
  readonly onClose: (close: () => void) => void;
}

export interface Orchestration {
  fleetAdmin: FleetAdmin;
  forcePush: ForcePush;
  liveQueries: LiveQueries;
  targetGroups: TargetGroupStore;
  tasks: TaskService;
  workflows: WorkflowService;
}

export function createOrchestration(p: OrchestrationParts): Orchestration {
  const targetGroups = new TargetGroupStore(p.store);
  const traitsByHash = (hash: string): unknown => p.fleetAdmin.traitsByHash(hash);
  const forcePush = createForcePush({
    fleet: p.fleet,
    traitsByHash,
    targetGroups,
    streams: p.streams,
    admin: p.fleetAdmin,
    publish: (data) => p.bus.publish('push.requested', data),
  });
  const liveQueries = createLiveQueries({
    fleet: p.fleet,
    traitsByHash,
    targetGroups,
    streams: p.streams,
    store: p.store,
    connection: p.connection,
    log: p.log.child({ component: 'queries' }),
    registry: p.registry,
    namedQueries: p.namedQueries,
    publish: (type, data, queryId) => p.bus.publish(type, data, queryId),
  });
  const fleetAdmin = withStreamPush(p.fleetAdmin, forcePush);
  const tasks = createTaskService({
    store: p.store,
    fleet: p.fleet,
    streams: p.streams,
    traitsByHash: (hash) => fleetAdmin.traitsByHash(hash),
    targetGroups,
    bus: p.bus,
    log: p.log.child({ component: 'tasks' }),
    dataDir: p.dataDir,
    namedTasks: p.namedTasks,
  });
  p.onClose(() => tasks.close());
  tasks.resume();
  const workflows = createWorkflowService({
    store: p.store,
    bus: p.bus,
    log: p.log.child({ component: 'workflows' }),
    tasks,
    forcePush,
    fleet: p.fleet,
    traitsByHash: (hash) => fleetAdmin.traitsByHash(hash),
    targetGroups,
    workflows: p.workflows,
    activeVersion: p.activeVersion,
    publish: p.publish,
  });
  p.onClose(() => workflows.close());
  workflows.resume();
  return { fleetAdmin, forcePush, liveQueries, targetGroups, tasks, workflows };
}
