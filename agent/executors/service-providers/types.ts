/** What the service executor needs from a service manager (systemd, s6, pebble, vigil, systemg). */

export type ServiceProviderName = 'systemd' | 's6' | 'pebble' | 'vigil' | 'systemg';

export const serviceProviderNames: readonly ServiceProviderName[] = [
  'systemd',
  's6',
  'pebble',
  'vigil',
  'systemg',
];

export interface ServiceStatus {
  readonly running: boolean;
  /** Starts at boot; undefined when the manager has no such switch for this service (a static unit, systemg). */
  readonly enabled: boolean | undefined;
}

/** One service manager. Every method throws an Error that says what failed and where. */
export interface ServiceProvider {
  readonly name: ServiceProviderName;
  /** undefined when the manager does not know the service. */
  status(service: string): Promise<ServiceStatus | undefined>;
  start(service: string): Promise<void>;
  stop(service: string): Promise<void>;
  restart(service: string): Promise<void>;
  reload(service: string): Promise<void>;
  setEnabled(service: string, enabled: boolean): Promise<void>;
}
