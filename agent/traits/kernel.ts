/** kernel {release, version} and arch: what `uname -r`, `uname -v` and `uname -m` print. */
import { machine } from 'node:os';
import { join } from 'node:path';
import { readTextOrNull, readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

export const kernelCollector: TraitCollector = {
  name: 'kernel',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const dir = join(env.procRoot, 'sys/kernel');
    const release = (await readTextRequired(join(dir, 'osrelease'), 'the kernel release')).trim();
    const version = (await readTextOrNull(join(dir, 'version')))?.trim() || null;
    // /proc/sys/kernel/arch appeared in Linux 6.1; older kernels answer through uname(2).
    const arch = (await readTextOrNull(join(dir, 'arch')))?.trim() || machine();
    return { kernel: { release, version }, arch };
  },
};
