/**
 * `docker_image`: an image is present in the local store (pulled when missing), kept at the newest
 * build of its tag (`state: latest`: pulled every run, reported as changed only when the image id
 * moved), or absent. Registry credentials come from the CLI's own login (`docker login`), never from
 * the stack.
 */
import { containerCli } from './docker-cli.ts';
import { fail, guardApply, requiredString, result } from './fs-util.ts';
import type { Executor } from './types.ts';
import { oneOf } from './xplat-util.ts';

/** registry/name[:tag][@sha256:…], as the CLI accepts it. */
export const imagePattern = /^[a-z0-9][a-z0-9._/:@-]*$/i;

export const dockerImageExecutor: Executor = {
  type: 'docker_image',
  apply: (params, ctx) =>
    guardApply(async () => {
      const image = requiredString(params, 'image');
      if (!imagePattern.test(image))
        fail(`image "${image}" is not an image reference such as redis:7-alpine`);
      const state = oneOf(params, 'state', ['present', 'latest', 'absent'], 'present');
      const cli = containerCli(params, ctx);
      const subject = `image ${image}`;
      const idOf = async (): Promise<string | undefined> => {
        const r = await cli.probe(['image', 'inspect', '--format', '{{.Id}}', image]);
        if (r.exitCode === 0) return r.stdout.trim();
        if (r.exitCode === 1 || /no such/i.test(r.stderr)) return undefined;
        return fail(
          `${subject}: \`${cli.program} image inspect\` failed (exit ${r.exitCode ?? 'killed'}): ${r.stderr.trim()}`,
        );
      };
      const before = await idOf();
      if (state === 'absent') {
        if (before === undefined) return result('none', `${subject} is absent`);
        if (ctx.dryRun) return result('deleted', `would remove ${subject}`);
        await cli.run(subject, ['image', 'rm', image]);
        if ((await idOf()) !== undefined) fail(`${subject}: still present after removing it`);
        return result('deleted', `removed ${subject}`);
      }
      if (before !== undefined && state === 'present') return result('none', `${subject} is present`);
      if (ctx.dryRun) {
        return before === undefined
          ? result('created', `would pull ${subject}`)
          : result('none', `${subject} is present; a run would pull it to look for a newer build`);
      }
      await cli.run(subject, ['pull', image]);
      const after = await idOf();
      if (after === undefined) fail(`${subject}: not in the local store after pulling it`);
      if (before === undefined) return result('created', `pulled ${subject}`);
      if (after === before) return result('none', `${subject} is the newest build`);
      return result(
        'updated',
        `pulled a newer build of ${image} (${before.slice(0, 19)} -> ${after.slice(0, 19)})`,
      );
    }),
};
