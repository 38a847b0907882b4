export type { ServiceProvider, ServiceProviderName, ServiceStatus } from './types.ts';
export { serviceProviderNames } from './types.ts';
export { createSystemdProvider } from './systemd.ts';
export { createS6Provider, defaultS6ScanDirs, s6WaitMs } from './s6.ts';
export { createPebbleApiProvider, type PebbleApiOptions } from './pebble-api.ts';
export { createPebbleProvider, defaultPebbleSocketPath } from './pebble.ts';
export { createVigilProvider, defaultVigilSocketPath } from './vigil.ts';
export { createSystemgProvider, parseSystemgStatus } from './systemg.ts';
export {
  describeDetection,
  detectServiceProvider,
  findS6ScanDir,
  type ServiceDetectionPaths,
} from './detect.ts';
