/** The executors of the Unix and Linux family: systemd drop-ins, tmpfiles.d, logrotate and the like. */
import { alternativesExecutor } from './alternatives.ts';
import { firewallExecutor } from './firewall.ts';
import { hostnameExecutor } from './hostname.ts';
import { kernelModuleExecutor } from './kernel-module.ts';
import { logrotateExecutor } from './logrotate.ts';
import { mountExecutor } from './mount.ts';
import { selinuxExecutor } from './selinux.ts';
import { swapExecutor } from './swap.ts';
import { systemdDropinExecutor } from './systemd-dropin.ts';
import { timezoneExecutor } from './timezone.ts';
import { tmpfileExecutor } from './tmpfile.ts';
import type { Executor } from './types.ts';

export const unixFamilyExecutors: readonly Executor[] = [
  systemdDropinExecutor,
  tmpfileExecutor,
  logrotateExecutor,
  hostnameExecutor,
  timezoneExecutor,
  mountExecutor,
  kernelModuleExecutor,
  firewallExecutor,
  alternativesExecutor,
  swapExecutor,
  selinuxExecutor,
];
