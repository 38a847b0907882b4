/**
 * The Linux collectors the agent runs by default, in the order their traits are merged. Collector
 * names are Vigo's (processors, mountpoints, loadavg, virtual); each reports its traits under the key
 * in the traits document, and the Vigo names of those keys resolve on read (server/policy/when/
 * trait-aliases.ts).
 */
import { blockdevicesCollector } from './blockdevices.ts';
import { certExpiryCollector } from './cert-expiry.ts';
import { timeCollector, timezoneCollector } from './clock.ts';
import { cloudCollector } from './cloud.ts';
import { containerCollector } from './container.ts';
import { cpuCollector } from './cpu.ts';
import { dmiCollector } from './dmi.ts';
import { dockerCollector } from './docker.ts';
import { gpuCollector } from './gpu.ts';
import { identityCollector } from './identity.ts';
import { kernelCollector } from './kernel.ts';
import { localeCollector } from './locale.ts';
import { memoryCollector } from './memory.ts';
import { mountsCollector } from './mounts.ts';
import { networkCollector } from './network.ts';
import { osCollector } from './os.ts';
import { packagesCollector } from './packages.ts';
import { portsCollector } from './ports.ts';
import { securityScanCollector } from './security-scan.ts';
import { selinuxCollector } from './selinux.ts';
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
  timeCollector,
  timezoneCollector,
  localeCollector,
  dmiCollector,
  cloudCollector,
  blockdevicesCollector,
  dockerCollector,
  selinuxCollector,
  gpuCollector,
  certExpiryCollector,
  portsCollector,
  securityScanCollector,
];
