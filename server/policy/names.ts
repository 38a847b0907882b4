/** Resource naming and the small normalizations that make bundle params explicit. */

/** The field a resource's derived name comes from, per type, in order of preference. */
const targetFields: Readonly<Record<string, readonly string[]>> = {
  file: ['target_path', 'path'],
  directory: ['target_path', 'path'],
  symlink: ['target_path', 'path'],
  file_line: ['target_path', 'path'],
  blockinfile: ['target_path', 'path'],
  replace: ['target_path', 'path'],
  ini: ['target_path', 'path'],
  json_file: ['target_path', 'path'],
  package: ['package', 'names'],
  service: ['service'],
  user: ['user'],
  group: ['group'],
  container: ['container'],
  exec: ['command'],
  cron: ['command'],
  sysctl: ['key'],
  host: ['hostname'],
  custom: ['executor'],
  field_edit: ['target_path', 'path'],
  sshkey: ['target_path', 'path', 'user'],
  git: ['target_path', 'path'],
  docker_compose: ['target_path', 'path'],
  process: ['pattern'],
  npm: ['package'],
  pip: ['package'],
  gem: ['package'],
  nonrepo_package: ['package'],
  source_package: ['package'],
  repository: ['repository'],
  reboot: ['reason'],
  docker_image: ['image'],
  docker_container: ['container'],
  systemd_dropin: ['unit'],
  hostname: ['hostname'],
  timezone: ['timezone'],
  kernel_module: ['module'],
};

export function targetFieldOf(type: string, params: Record<string, unknown>): string | undefined {
  return (targetFields[type] ?? []).find((f) => params[f] !== undefined);
}

/** `<type>:<target>` (e.g. `file:/etc/motd`), or undefined when the type has no target to name it by. */
export function deriveName(type: string, params: Record<string, unknown>): string | undefined {
  const field = targetFieldOf(type, params);
  if (field === undefined) return undefined;
  const v = params[field];
  if (typeof v === 'string' && v !== '') return `${type}:${v}`;
  if (Array.isArray(v) && v.length > 0) return `${type}:${v.map(String).join(',')}`;
  return undefined;
}

/** Types whose subject defaults to the resource name (`service: nginx` may be written as `name: nginx`). */
const nameFallbackField: Readonly<Record<string, string>> = {
  package: 'package',
  service: 'service',
  user: 'user',
  group: 'group',
  container: 'container',
  // Vigo names these files after the resource: /etc/tmpfiles.d/<name>.conf, /etc/logrotate.d/<name>.
  tmpfile: 'name',
  logrotate: 'name',
  systemd_dropin: 'name',
  kernel_module: 'module',
  alternatives: 'alternative',
};

/**
 * Makes params explicit for the agent: `path` becomes `target_path`, and the subject of
 * package/service/user/group/container is filled from the resource name when omitted.
 */
export function normalizeParams(type: string, params: Record<string, unknown>, name: string): void {
  if (params.path !== undefined && params.target_path === undefined) {
    params.target_path = params.path;
    delete params.path;
  }
  const field = nameFallbackField[type];
  if (field === undefined || params[field] !== undefined) return;
  if (type === 'package' && params.names !== undefined) return;
  params[field] = name;
}

/** The absolute path a file-like resource manages, if any. */
export function managedPath(type: string, params: Record<string, unknown>): string | undefined {
  if ((targetFields[type] ?? [])[0] !== 'target_path') return undefined;
  const v = params.target_path ?? params.path;
  return typeof v === 'string' ? v : undefined;
}

/** The service unit a service resource manages, if any. */
export function managedService(type: string, params: Record<string, unknown>): string | undefined {
  if (type !== 'service') return undefined;
  const v = params.service;
  return typeof v === 'string' ? v : undefined;
}
