/**
 * The `service` executor: keeps a service running or stopped and enabled or disabled at boot, through
 * systemd, s6, pebble, vigil or systemg (service-providers/). The provider comes from `provider:` or from
 * what runs on the node (service-providers/detect.ts).
 *
 * `restarted` and `reloaded` are actions, not states: they restart (reload) a running service on every
 * apply, and start a stopped one. Use them in handlers (`when: changed`, run only when notified); the engine
 * also turns a notification of a `state: running` service into `restarted`. `running` and `stopped` are
 * idempotent. When neither `state` nor `enabled` is set there is nothing to enforce and the resource fails.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  createPebbleProvider,
  createS6Provider,
  createSystemdProvider,
  createSystemgProvider,
  createVigilProvider,
  defaultPebbleSocketPath,
  defaultS6ScanDirs,
  defaultVigilSocketPath,
  describeDetection,
  detectServiceProvider,
  findS6ScanDir,
  serviceProviderNames,
  type ServiceDetectionPaths,
  type ServiceProvider,
  type ServiceProviderName,
  type ServiceStatus,
} from './service-providers/index.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

export interface ServiceExecutorOptions {
  readonly systemdRunDir?: string;
  readonly s6ScanDirs?: readonly string[];
  readonly pebbleSocketPath?: string;
  readonly vigilSocketPath?: string;
  /** PATH searched for sysg during detection (default: the agent's PATH). */
  readonly pathEnv?: string;
  /** How long a started or stopped service may take to show its new state (default 10 s). */
  readonly settleTimeoutMs?: number;
}

type ServiceState = 'running' | 'stopped' | 'restarted' | 'reloaded';

interface ServiceParams {
  readonly service: string;
  readonly state?: ServiceState;
  readonly enabled?: boolean;
  readonly provider?: ServiceProviderName;
}

// Unit and directory names: no "/" and no leading "-" or "." (so never "..").
const serviceNamePattern = /^[A-Za-z0-9_@][A-Za-z0-9_@.:\\+-]*$/;
const states = new Set<string>(['running', 'stopped', 'restarted', 'reloaded']);

function parseParams(p: Readonly<Record<string, unknown>>): ServiceParams | string {
  const service = typeof p.service === 'string' ? p.service : typeof p.name === 'string' ? p.name : '';
  if (!serviceNamePattern.test(service)) {
    return `service name "${service}" is invalid: use letters, digits and _ @ . : + - (no "/", not starting with - or .)`;
  }
  if (p.state !== undefined && !(typeof p.state === 'string' && states.has(p.state))) {
    return `service ${service}: state must be running, stopped, restarted or reloaded`;
  }
  if (p.enabled !== undefined && typeof p.enabled !== 'boolean')
    return `service ${service}: enabled must be true or false`;
  if (p.state === undefined && p.enabled === undefined) {
    return `service ${service}: set state (running, stopped, restarted, reloaded) and/or enabled; nothing to enforce`;
  }
  const provider = p.provider;
  if (provider !== undefined && !serviceProviderNames.includes(provider as ServiceProviderName)) {
    return `service ${service}: provider must be one of ${serviceProviderNames.join(', ')}`;
  }
  return {
    service,
    state: p.state as ServiceState | undefined,
    enabled: p.enabled,
    provider: provider as ServiceProviderName | undefined,
  };
}

interface Step {
  readonly plan: string;
  readonly done: string;
  readonly act: () => Promise<void>;
}

function planSteps(s: ServiceParams, prov: ServiceProvider, cur: ServiceStatus, notes: string[]): Step[] {
  const name = s.service;
  const steps: Step[] = [];
  if (s.enabled !== undefined) {
    if (cur.enabled === undefined) {
      notes.push(`${prov.name} has no boot-time switch for ${name}, so enabled is not enforced`);
    } else if (cur.enabled !== s.enabled) {
      const word = s.enabled ? 'enable' : 'disable';
      steps.push({
        plan: `${word} ${name} at boot`,
        done: `${word}d at boot`,
        act: () => prov.setEnabled(name, s.enabled === true),
      });
    }
  }
  const start: Step = { plan: `start ${name}`, done: 'started', act: () => prov.start(name) };
  if (s.state === 'running' && !cur.running) steps.push(start);
  if (s.state === 'stopped' && cur.running)
    steps.push({ plan: `stop ${name}`, done: 'stopped', act: () => prov.stop(name) });
  if (s.state === 'restarted') {
    steps.push(
      cur.running ? { plan: `restart ${name}`, done: 'restarted', act: () => prov.restart(name) } : start,
    );
  }
  if (s.state === 'reloaded') {
    steps.push(
      cur.running ? { plan: `reload ${name}`, done: 'reloaded', act: () => prov.reload(name) } : start,
    );
  }
  return steps;
}

function drift(s: ServiceParams, st: ServiceStatus): string[] {
  const out: string[] = [];
  const wantRunning = s.state === undefined ? undefined : s.state !== 'stopped';
  if (wantRunning !== undefined && st.running !== wantRunning)
    out.push(st.running ? 'still running' : 'not running');
  if (s.enabled !== undefined && st.enabled !== undefined && st.enabled !== s.enabled) {
    out.push(st.enabled ? 'still enabled at boot' : 'not enabled at boot');
  }
  return out;
}

/** Re-reads the state until it matches or the settle time is up; returns what still differs. */
async function verify(
  s: ServiceParams,
  prov: ServiceProvider,
  ctx: ExecutorContext,
  settleMs: number,
): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const st = await prov.status(s.service);
    const left = st ? drift(s, st) : ['the service disappeared'];
    if (left.length === 0 || Date.now() >= deadline || ctx.signal.aborted) return left;
    await delay(200, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

function describe(s: ServiceParams, cur: ServiceStatus): string {
  const parts = [cur.running ? 'running' : 'stopped'];
  if (cur.enabled !== undefined) parts.push(cur.enabled ? 'enabled at boot' : 'disabled at boot');
  return `${s.service} ${parts.join(', ')}`;
}

async function makeProvider(
  name: ServiceProviderName,
  paths: ServiceDetectionPaths,
  ctx: ExecutorContext,
): Promise<ServiceProvider> {
  switch (name) {
    case 'systemd':
      return createSystemdProvider(ctx.run);
    case 's6': {
      const scanDir = await findS6ScanDir(paths.s6ScanDirs);
      if (!scanDir) {
        throw new Error(`no supervised s6 scan directory found (looked in ${paths.s6ScanDirs.join(', ')})`);
      }
      return createS6Provider(ctx.run, scanDir);
    }
    case 'pebble':
      return createPebbleProvider(paths.pebbleSocketPath, ctx.signal);
    case 'vigil':
      return createVigilProvider(paths.vigilSocketPath, ctx.signal);
    case 'systemg':
      return createSystemgProvider(ctx.run);
  }
}

interface Settings {
  readonly paths: ServiceDetectionPaths;
  readonly settleMs: number;
}

async function applyService(s: ServiceParams, ctx: ExecutorContext, cfg: Settings): Promise<ExecutorResult> {
  const name = s.provider ?? (await detectServiceProvider(cfg.paths));
  if (!name) {
    const looked = describeDetection(cfg.paths);
    return { outcome: 'failed', message: `no service manager found (looked for ${looked}); set provider:` };
  }
  const prov = await makeProvider(name, cfg.paths, ctx);
  const cur = await prov.status(s.service);
  if (!cur) return { outcome: 'failed', message: `service ${s.service} is not known to ${name}` };
  const notes: string[] = [];
  const steps = planSteps(s, prov, cur, notes);
  const noteText = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  if (steps.length === 0) return { outcome: 'none', message: `${describe(s, cur)} (${name})${noteText}` };
  if (ctx.dryRun) {
    const plan = steps.map((st) => st.plan).join(', then ');
    return { outcome: 'updated', message: `would ${plan} (${name})${noteText}` };
  }
  for (const step of steps) await step.act();
  const left = await verify(s, prov, ctx, cfg.settleMs);
  const did = steps.map((st) => st.done).join(', ');
  if (left.length > 0) {
    return { outcome: 'failed', message: `${s.service} ${did} (${name}), but it is ${left.join(' and ')}` };
  }
  return { outcome: 'updated', message: `${s.service} ${did} (${name})${noteText}` };
}

export function createServiceExecutor(options: ServiceExecutorOptions = {}): Executor {
  const cfg: Settings = {
    paths: {
      systemdRunDir: options.systemdRunDir ?? '/run/systemd/system',
      s6ScanDirs: options.s6ScanDirs ?? defaultS6ScanDirs,
      pebbleSocketPath: options.pebbleSocketPath ?? defaultPebbleSocketPath(),
      vigilSocketPath: options.vigilSocketPath ?? defaultVigilSocketPath(),
      pathEnv: options.pathEnv,
    },
    settleMs: options.settleTimeoutMs ?? 10_000,
  };
  return {
    type: 'service',
    async apply(params, ctx) {
      const s = parseParams(params);
      if (typeof s === 'string') return { outcome: 'failed', message: s };
      try {
        return await applyService(s, ctx, cfg);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        return { outcome: 'failed', message: `service ${s.service}: ${text}` };
      }
    },
  };
}

export const serviceExecutor: Executor = createServiceExecutor();
