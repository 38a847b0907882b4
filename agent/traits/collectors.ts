/** The Linux collectors the agent runs by default, in the order their traits are merged. */
import { containerCollector } from './container.ts';
import { cpuCollector } from './cpu.ts';
import { identityCollector } from './identity.ts';
import { kernelCollector } from './kernel.ts';
import { memoryCollector } from './memory.ts';
import { mountsCollector } from './mounts.ts';
import { networkCollector } from './network.ts';
import { osCollector } from './os.ts';
import { packagesCollector } from './packages.ts';
import { systemdCollector } from './systemd.ts';
import type { TraitCollector } from './types.ts';
import { uptimeCollector } from './uptime.ts';
import { usersCollector } from './users.ts';

export const defaultTraitCollectors: readonly TraitCollector[] = [
  osCollector,
  kernelCollector,
  identityCollector,
  cpuCollector,
  memoryCollector,
  mountsCollector,
  networkCollector,
  uptimeCollector,
  packagesCollector,
  usersCollector,
  systemdCollector,
  containerCollector,
];
