/** The executors of the Unix and Linux family: systemd drop-ins, tmpfiles.d, logrotate and the like. */
import { logrotateExecutor } from './logrotate.ts';
import { systemdDropinExecutor } from './systemd-dropin.ts';
import { tmpfileExecutor } from './tmpfile.ts';
import type { Executor } from './types.ts';

export const unixFamilyExecutors: readonly Executor[] = [
  systemdDropinExecutor,
  tmpfileExecutor,
  logrotateExecutor,
];
