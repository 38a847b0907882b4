/**
 * `docker_container` (also accepted under the older name `container`, same fields): one container,
 * created from `image` with its ports, volumes, network, restart policy, environment and command, and
 * kept running, stopped (created but not running), present (either) or absent.
 *
 * The container carries a label `vigo.config` with a digest of the fields that shape it; when the
 * resource's fields change (or someone recreated the container by hand without the label) the digest
 * differs and the container is replaced. A drifted run state alone is fixed with start/stop.
 * Environment values may be secrets: they go to the CLI in a 0600 --env-file that is deleted right
 * after, never on its argument list, and never appear in messages.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerCli, isNoSuch, splitCommand, type ContainerCli } from './docker-cli.ts';
import { imagePattern } from './docker-image.ts';
import { fail, guardApply, optionalString, result } from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { oneOf, optionalStringList } from './xplat-util.ts';

type Params = Readonly<Record<string, unknown>>;

interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly ports: string[];
  readonly volumes: string[];
  readonly network?: string;
  readonly restart?: string;
  readonly command: string[];
  readonly env: [string, string][];
}

function envPairs(value: unknown): [string, string][] {
  if (value === undefined || value === null) return [];
  const entries: [string, string][] = [];
  const push = (k: string, v: string): void => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k)) fail(`env name "${k}" is not a valid variable name`);
    if (/[\n\r\0]/.test(v)) fail(`env ${k}: values must be one line`);
    entries.push([k, v]);
  };
  const fromString = (s: string): void => {
    const i = s.indexOf('=');
    if (i <= 0) fail(`env entries must be KEY=VALUE, got one without "="`);
    push(s.slice(0, i), s.slice(i + 1));
  };
  if (typeof value === 'string') fromString(value);
  else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') fail('env list entries must be KEY=VALUE strings');
      fromString(item);
    }
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        fail(`env ${k} must be a string, number or boolean`);
      }
      push(k, String(v));
    }
  } else fail('env must be a map, a list of KEY=VALUE or one KEY=VALUE');
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function readSpec(params: Params): ContainerSpec {
  const name = optionalString(params, 'container') ?? optionalString(params, 'name');
  if (name === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    fail(`container must be a container name (letters, digits, "_", ".", "-"), got ${JSON.stringify(name)}`);
  }
  const image = optionalString(params, 'image') ?? '';
  if (image !== '' && !imagePattern.test(image)) fail(`image "${image}" is not an image reference`);
  const ports = optionalStringList(params, 'ports');
  for (const p of ports)
    if (!/^[0-9A-Za-z.:[\]/-]+$/.test(p)) fail(`port "${p}" is not a port mapping such as 8080:80`);
  const volumes = optionalStringList(params, 'volumes');
  for (const v of volumes)
    if (v.startsWith('-') || /[\n\0]/.test(v)) fail(`volume "${v}" is not a volume mapping`);
  const network = optionalString(params, 'network');
  if (network?.startsWith('-') === true) fail(`network "${network}" is not a network name`);
  const restart =
    params.restart === undefined
      ? undefined
      : oneOf(params, 'restart', ['no', 'always', 'on-failure', 'unless-stopped'], 'no');
  const command = splitCommand(optionalString(params, 'command') ?? '');
  return { name, image, ports, volumes, network, restart, command, env: envPairs(params.env) };
}

/** The digest of everything that shapes the container; values are hashed, never stored in the clear. */
function configDigest(spec: ContainerSpec): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...spec, name: undefined }))
    .digest('hex')
    .slice(0, 32);
}

interface Observed {
  readonly status: string;
  readonly digest: string;
}

async function inspect(cli: ContainerCli, subject: string, name: string): Promise<Observed | undefined> {
  const r = await cli.probe([
    'container',
    'inspect',
    '--format',
    '{{.State.Status}}\t{{index .Config.Labels "vigo.config"}}',
    name,
  ]);
  if (r.exitCode !== 0) {
    if (isNoSuch(r)) return undefined;
    fail(
      `${subject}: \`${cli.program} container inspect ${name}\` failed (exit ${r.exitCode ?? 'killed'}): ${r.stderr.trim()}`,
    );
  }
  const [status = '', digest = ''] = r.stdout.trim().split('\t');
  return { status, digest: digest === '<no value>' ? '' : digest };
}

async function create(
  ctx: ExecutorContext,
  cli: ContainerCli,
  subject: string,
  spec: ContainerSpec,
  start: boolean,
) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vigo-env-'));
  try {
    const args = [start ? 'run' : 'create', ...(start ? ['--detach'] : []), '--name', spec.name];
    args.push('--label', `vigo.config=${configDigest(spec)}`);
    if (spec.restart !== undefined) args.push('--restart', spec.restart);
    for (const p of spec.ports) args.push('--publish', p);
    for (const v of spec.volumes) args.push('--volume', v);
    if (spec.network !== undefined) args.push('--network', spec.network);
    if (spec.env.length > 0) {
      const file = path.join(dir, 'env');
      await fsp.writeFile(file, spec.env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
      args.push('--env-file', file);
    }
    await cli.run(subject, [...args, '--', spec.image, ...spec.command]);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function converge(ctx: ExecutorContext, params: Params, type: string): Promise<ExecutorResult> {
  const spec = readSpec(params);
  const state = oneOf(params, 'state', ['running', 'stopped', 'present', 'absent'], 'running');
  const cli = containerCli(params, ctx);
  const subject = `${type} ${spec.name}`;
  const now = await inspect(cli, subject, spec.name);
  if (state === 'absent') {
    if (now === undefined) return result('none', `${subject} is absent`);
    if (ctx.dryRun) return result('deleted', `would remove ${subject}`);
    await cli.run(subject, ['rm', '--force', spec.name]);
    if ((await inspect(cli, subject, spec.name)) !== undefined)
      fail(`${subject}: still exists after removing it`);
    return result('deleted', `removed ${subject}`);
  }
  if (spec.image === '') fail(`${subject}: image is required`);
  const running = now?.status === 'running';
  const wantRunning = state === 'running' ? true : state === 'stopped' ? false : undefined;
  const replace = now !== undefined && now.digest !== configDigest(spec);
  if (now !== undefined && !replace && (wantRunning === undefined || wantRunning === running)) {
    return result('none', `${subject} is ${now.status}`);
  }
  const plan =
    now === undefined
      ? 'create'
      : replace
        ? 'replace (its configuration changed)'
        : wantRunning
          ? 'start'
          : 'stop';
  if (ctx.dryRun) return result(now === undefined ? 'created' : 'updated', `would ${plan} ${subject}`);
  if (now === undefined || replace) {
    if (replace) await cli.run(subject, ['rm', '--force', spec.name]);
    await create(ctx, cli, subject, spec, wantRunning !== false);
  } else await cli.run(subject, [wantRunning ? 'start' : 'stop', spec.name]);
  const after = await inspect(cli, subject, spec.name);
  if (after === undefined) fail(`${subject}: does not exist after ${plan}`);
  if (wantRunning === true && after.status !== 'running')
    fail(`${subject}: is ${after.status} after ${plan}, not running`);
  if (wantRunning === false && after.status === 'running') fail(`${subject}: still running after ${plan}`);
  const verbs: Record<string, string> = { create: 'created', start: 'started', stop: 'stopped' };
  const done = verbs[plan] ?? 'replaced (its configuration changed)';
  return result(now === undefined ? 'created' : 'updated', `${done} ${subject}`);
}

export function createDockerContainerExecutor(type: 'docker_container' | 'container'): Executor {
  return { type, apply: (params, ctx) => guardApply(() => converge(ctx, params, type)) };
}

export const dockerContainerExecutor: Executor = createDockerContainerExecutor('docker_container');
export const containerExecutor: Executor = createDockerContainerExecutor('container');
