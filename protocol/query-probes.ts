/**
 * The fixed catalogue of read-only probes a named query (queries.vgo) may run, and the arguments each
 * takes. The server checks a query's arguments against it at publish and the agent again against the
 * definition in its signed bundle before it runs the probe, so both read it from here. Every probe only
 * reads: the agent implements each in code, without a shell or a child process.
 */
export const queryArgKinds = {
  /** An absolute path, at most 4096 bytes, without NUL, "." or ".." segments. */
  path: (value: string): boolean =>
    value.startsWith('/') &&
    Buffer.byteLength(value) <= 4096 &&
    !value.includes('\0') &&
    !value.split('/').some((segment) => segment === '.' || segment === '..'),
  /** A package, service or process name: 1 to 128 of letters, digits and _ . @ : + - */
  name: (value: string): boolean => /^[A-Za-z0-9_.@:+-]{1,128}$/.test(value),
} as const;

export type QueryArgKind = keyof typeof queryArgKinds;

export interface QueryProbeSpec {
  readonly description: string;
  /** Argument name → kind; every argument is required. */
  readonly args: Readonly<Record<string, QueryArgKind>>;
}

export const queryProbes = {
  file_sha256: {
    description: "the SHA-256 of a regular file's content (hex), or null when there is no such file",
    args: { path: 'path' },
  },
  file_exists: {
    description: 'whether the path exists (true or false)',
    args: { path: 'path' },
  },
  package_version: {
    description: 'the installed version of a Debian package (dpkg), or null when it is not installed',
    args: { name: 'name' },
  },
  process_running: {
    description: 'how many processes run a program of this name (0 when none)',
    args: { name: 'name' },
  },
  listening_ports: {
    description: 'the TCP ports something listens on, ascending',
    args: {},
  },
} as const satisfies Record<string, QueryProbeSpec>;

export type QueryProbeName = keyof typeof queryProbes;

export function isQueryProbe(name: unknown): name is QueryProbeName {
  return typeof name === 'string' && Object.hasOwn(queryProbes, name);
}

/** Why `args` do not fit `probe`, or undefined: unknown, missing and malformed arguments. */
export function queryArgsProblem(
  probe: QueryProbeName,
  args: Readonly<Record<string, unknown>>,
): string | undefined {
  const spec: QueryProbeSpec = queryProbes[probe];
  for (const key of Object.keys(args))
    if (!Object.hasOwn(spec.args, key))
      return `probe ${probe} takes no argument ${JSON.stringify(key.slice(0, 64))}${
        Object.keys(spec.args).length === 0 ? '' : `; it takes ${Object.keys(spec.args).join(', ')}`
      }`;
  for (const [key, kind] of Object.entries(spec.args)) {
    const value = args[key];
    if (value === undefined) return `probe ${probe} needs the argument ${key} (a ${kind})`;
    if (typeof value !== 'string') return `argument ${key} of probe ${probe} is not a string`;
    if (!queryArgKinds[kind](value))
      return `argument ${key} of probe ${probe} is not a valid ${kind}: ${JSON.stringify(value.slice(0, 80))}`;
  }
  return undefined;
}
