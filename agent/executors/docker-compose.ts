/**
 * `docker_compose`: a Compose project is up (every service it defines has a running container whose
 * configuration matches the file) or down.
 *
 * The check uses Compose's own notion of "changed": `config --hash '*'` gives each service's
 * configuration digest, and each container carries the digest it was created from
 * (com.docker.compose.config-hash). A service without a running container or with another digest is
 * drift, and only then does `up --detach --remove-orphans` run. `state: absent` runs `down` when the
 * project has containers.
 */
import path from 'node:path';
import { containerCli, parseJsonRecords } from './docker-cli.ts';
import { fail, guardApply, optionalBool, optionalString, result, targetPath } from './fs-util.ts';
import type { Executor } from './types.ts';
import { oneOf } from './xplat-util.ts';

interface ServiceState {
  readonly running: boolean;
  readonly hash: string | undefined;
}

function labelValue(labels: unknown, key: string): string | undefined {
  if (typeof labels === 'string') {
    for (const part of labels.split(',')) {
      const i = part.indexOf('=');
      if (i > 0 && part.slice(0, i) === key) return part.slice(i + 1);
    }
    return undefined;
  }
  if (labels !== null && typeof labels === 'object') {
    const v = (labels as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

export const dockerComposeExecutor: Executor = {
  type: 'docker_compose',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const project = optionalString(params, 'project') ?? path.basename(path.dirname(file));
      if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
        fail(`project "${project}" must be lowercase letters, digits, "_" and "-" (set project:)`);
      }
      const state = oneOf(params, 'state', ['present', 'absent'], 'present');
      const pull = optionalBool(params, 'pull', false);
      const cli = containerCli(params, ctx);
      const subject = `compose project ${project}`;
      const base = ['compose', '--file', file, '--project-name', project];
      const ps = async (): Promise<Map<string, ServiceState>> => {
        const r = await cli.run(subject, [...base, 'ps', '--all', '--format', 'json']);
        const out = new Map<string, ServiceState>();
        for (const c of parseJsonRecords(r.stdout)) {
          const service = typeof c.Service === 'string' ? c.Service : '';
          const running = typeof c.State === 'string' && c.State.toLowerCase() === 'running';
          const prev = out.get(service);
          out.set(service, {
            running: running && (prev?.running ?? true),
            hash: labelValue(c.Labels, 'com.docker.compose.config-hash'),
          });
        }
        return out;
      };
      const containers = await ps();
      if (state === 'absent') {
        if (containers.size === 0) return result('none', `${subject} is down`);
        if (ctx.dryRun) return result('deleted', `would take ${subject} down`);
        await cli.run(subject, [...base, 'down', '--remove-orphans']);
        if ((await ps()).size > 0) fail(`${subject}: containers are left after down`);
        return result('deleted', `took ${subject} down`);
      }
      const hashes = new Map<string, string>();
      const cfg = await cli.run(subject, [...base, 'config', '--hash', '*']);
      for (const line of cfg.stdout.split('\n')) {
        const [service, hash] = line.trim().split(/\s+/);
        if (service !== undefined && service !== '' && hash !== undefined) hashes.set(service, hash);
      }
      if (hashes.size === 0) fail(`${subject}: ${file} defines no services`);
      const drift: string[] = [];
      for (const [service, hash] of hashes) {
        const c = containers.get(service);
        if (c === undefined) drift.push(`${service} missing`);
        else if (c.hash !== undefined && c.hash !== hash) drift.push(`${service} changed`);
        else if (!c.running) drift.push(`${service} not running`);
      }
      if (drift.length === 0) return result('none', `${subject} is up (${hashes.size} services)`);
      const outcome = containers.size === 0 ? 'created' : 'updated';
      if (ctx.dryRun) return result(outcome, `would bring ${subject} up: ${drift.join(', ')}`);
      await cli.run(subject, [
        ...base,
        'up',
        '--detach',
        '--remove-orphans',
        ...(pull ? ['--pull', 'always'] : []),
      ]);
      const after = await ps();
      const down = [...hashes.keys()].filter((s) => after.get(s)?.running !== true);
      if (down.length > 0) fail(`${subject}: not running after up: ${down.join(', ')}`);
      return result(outcome, `brought ${subject} up: ${drift.join(', ')}`);
    }),
};
