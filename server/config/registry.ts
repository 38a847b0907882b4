/**
 * Every vigosrv option, declared once: its dotted key (as nested in server.yaml), parser, default,
 * VIGO_* environment variable, doc line and optional flag. Help, the environment reader, the flag
 * parser, the YAML checker and the typed ServerConfig all derive from this table.
 *
 * Durations are written Go-style in server.yaml ("5m", "24h") and arrive in ServerConfig as milliseconds.
 */
import os from 'node:os';
import {
  booleanOption,
  choiceOption,
  durationOption,
  integerOption,
  listOption,
  listenOption,
  numberOption,
  pathOption,
  structuredOption,
  textOption,
} from './options.ts';
// The parser alone, not the integrations runtime (mail, HTTP clients): vigocli reads this registry too.
import { parseIntegrationTargets } from '../integrations/config.ts';
import type { IntegrationTarget } from '../integrations/config.ts';
import type { ConfigOption } from './options.ts';
import { defaultDataDir } from './paths.ts';
import { dataOptions } from './registry-data.ts';
import { isHostname, isSubjectAltName, isWebhookUrl, parseDialAddress } from './values.ts';
import net from 'node:net';

export const configRegistry = {
  'server.grpc_listen': listenOption({
    doc: 'Agent gRPC listener (mTLS). ":1530" listens on every interface; port 0 picks a free port.',
    env: 'VIGO_GRPC_LISTEN',
    flag: 'grpc-listen',
    default: ':1530',
  }),
  'server.api_listen': listenOption({
    doc: 'HTTPS listener for the REST API, web UI, /metrics and /bootstrap; same form as server.grpc_listen.',
    env: 'VIGO_API_LISTEN',
    flag: 'api-listen',
    default: ':8443',
  }),
  'server.grpc_advertise': textOption({
    doc: 'Address agents are told to dial for gRPC: "host[:port]"; "" means the host each enrollment request named.',
    env: 'VIGO_GRPC_ADVERTISE',
    expected: 'a host name or IP address, optionally with ":port", or ""',
    accepts: (text) => text === '' || parseDialAddress(text) !== undefined,
    defaultText: '"" (the host each enrollment request named)',
    defaultValue: () => '',
  }),
  'server.hostname': textOption({
    doc: 'Name of this server, always added to the server certificate SANs; the /bootstrap script downloads from it.',
    env: 'VIGO_HOSTNAME',
    expected: 'a host name or IP address',
    accepts: (text) => isHostname(text) || net.isIP(text) !== 0,
    defaultText: "the machine's host name",
    defaultValue: () => os.hostname(),
  }),
  'server.tls_sans': listOption({
    doc: 'Extra subject alternative names (DNS names or IPs) for the server certificate.',
    env: 'VIGO_TLS_SANS',
    default: [],
    item: { item: 'a DNS name or IP address', items: 'DNS names or IP addresses', accepts: isSubjectAltName },
  }),
  'server.tls_handshake_timeout': durationOption({
    doc: 'A new connection on either port that has not finished its TLS handshake within this long is closed.',
    env: 'VIGO_SERVER_TLS_HANDSHAKE_TIMEOUT',
    default: '10s',
  }),
  'server.data_dir': pathOption({
    doc: 'Directory for the database, TLS material, secrets and the lock file.',
    env: 'VIGO_DATA_DIR',
    flag: 'data-dir',
    defaultText: '/srv/vigo in system mode; $XDG_DATA_HOME/vigo, else ./.vigo, in user mode',
    defaultValue: defaultDataDir,
  }),
  'server.stacks_dir': pathOption({
    doc: 'Directory of the stacks operators publish from.',
    env: 'VIGO_STACKS_DIR',
    flag: 'stacks',
    defaultText: '"" (<data_dir>/stacks)',
    defaultValue: () => '',
    emptyMeans: '<data_dir>/stacks',
  }),
  'log.level': choiceOption({
    doc: 'Least severe log level written: debug, info, warn or error.',
    env: 'VIGO_LOG_LEVEL',
    flag: 'log-level',
    values: ['debug', 'info', 'warn', 'error'],
    default: 'info',
    reloadable: true,
  }),
  'log.format': choiceOption({
    doc: 'Log record format on stderr: json (one object a line) or text (time level message key=value).',
    env: 'VIGO_LOG_FORMAT',
    flag: 'log-format',
    values: ['json', 'text'],
    default: 'json',
  }),
  'log.access': choiceOption({
    doc: 'One info record per HTTPS request (method, route, status, bytes, duration, principal): off or on.',
    env: 'VIGO_LOG_ACCESS',
    values: ['off', 'on'],
    default: 'off',
    reloadable: true,
  }),
  'shutdown.budget': durationOption({
    doc: 'Longest the graceful drain on SIGTERM/SIGINT may take before the process stops anyway (exit 75).',
    env: 'VIGO_SHUTDOWN_BUDGET',
    default: '20s',
  }),
  'checkin.interval': durationOption({
    doc: 'How often agents check in.',
    env: 'VIGO_CHECKIN_INTERVAL',
    default: '5m',
    reloadable: true,
  }),
  'checkin.bundle_max_age': durationOption({
    doc: 'How long a signed policy bundle stays valid on an agent; "0" means it never expires (not advised).',
    env: 'VIGO_CHECKIN_BUNDLE_MAX_AGE',
    default: '24h',
    allowZero: true,
    reloadable: true,
  }),
  'checkin.observe_only': booleanOption({
    doc: 'Fleet-wide observe mode: agents report drift but change nothing.',
    env: 'VIGO_CHECKIN_OBSERVE_ONLY',
    default: false,
    reloadable: true,
  }),
  'checkin.clock_skew': durationOption({
    doc: "Largest accepted distance between an agent request's timestamp and the server clock.",
    env: 'VIGO_CHECKIN_CLOCK_SKEW',
    default: '5m',
    reloadable: true,
  }),
  'checkin.stale_factor': numberOption({
    doc: 'An envoy unseen for stale_factor x its check-in cadence (its observed interval, never less than checkin.interval) is stale; must be greater than 1.',
    env: 'VIGO_CHECKIN_STALE_FACTOR',
    default: 2.5,
    greaterThan: 1,
    reloadable: true,
  }),
  'checkin.connection': choiceOption({
    doc: 'How agents connect: "held" keeps a connection and stream per agent open; "poll" connects for each check-in, then closes.',
    env: 'VIGO_CHECKIN_CONNECTION',
    values: ['held', 'poll'],
    default: 'held',
    reloadable: true,
  }),
  'checkin.workers': integerOption({
    doc: 'Check-in processes that terminate agent connections (TLS, HTTP/2, signatures) while the server process answers every call; 1 (the default) means the server process does it all, 0 means one per core.',
    env: 'VIGO_CHECKIN_WORKERS',
    default: 1,
    min: 0,
    max: 64,
  }),
  'checkin.stream_idle_release': durationOption({
    doc: 'In poll mode, an agent told to open its stream closes it after the server has sent nothing on it for this long.',
    env: 'VIGO_CHECKIN_STREAM_IDLE_RELEASE',
    default: '1m',
    reloadable: true,
  }),
  'grpc.connection_idle_timeout': durationOption({
    doc: 'An agent connection with no call open for this long is closed (agents connect again when they next call).',
    env: 'VIGO_GRPC_CONNECTION_IDLE_TIMEOUT',
    default: '2m',
  }),
  'grpc.max_handshakes_per_address': integerOption({
    doc: 'Connections one client address (IPv4, or IPv6 /64) may hold to the gRPC port before presenting a valid client certificate.',
    env: 'VIGO_GRPC_MAX_HANDSHAKES_PER_ADDRESS',
    default: 256,
    min: 1,
  }),
  'grpc.max_concurrent_streams': integerOption({
    doc: 'Calls (HTTP/2 streams) open at once on one agent connection; an agent needs a handful.',
    env: 'VIGO_GRPC_MAX_CONCURRENT_STREAMS',
    default: 100,
    min: 1,
  }),
  'fleet.flush_interval': durationOption({
    doc: 'How often the in-memory fleet index writes changed envoy rows to the database.',
    env: 'VIGO_FLEET_FLUSH_INTERVAL',
    default: '5s',
    reloadable: true,
  }),
  'fleet.convergence_threshold': integerOption({
    doc: 'Percent of reporting envoys that should be converged: when the fleet drops below it, one convergence.threshold event is published (0: never).',
    env: 'VIGO_FLEET_CONVERGENCE_THRESHOLD',
    default: 0,
    min: 0,
    max: 100,
    reloadable: true,
  }),
  'metrics.compliance_per_envoy': booleanOption({
    doc: 'Export vigo_compliance_status{envoy,status} on /metrics: one series per envoy, so off by default for its cardinality.',
    env: 'VIGO_METRICS_COMPLIANCE_PER_ENVOY',
    default: false,
  }),
  'exports.oscal': booleanOption({
    doc: 'Serve the OSCAL assessment-results export at /api/v1/export/oscal (compliance.read); off answers 404 export.disabled.',
    env: 'VIGO_EXPORTS_OSCAL',
    default: false,
    reloadable: true,
  }),
  'http.max_body_bytes': integerOption({
    doc: 'Largest request body the HTTPS API accepts, in bytes; larger requests get 413 (public routes: 64 KiB at most).',
    env: 'VIGO_HTTP_MAX_BODY_BYTES',
    default: 1_048_576,
    min: 1,
  }),
  'http.max_connections_per_address': integerOption({
    doc: 'Connections one client address (IPv4, or IPv6 /64) may hold open to the HTTPS port; more are closed at once.',
    env: 'VIGO_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
    default: 256,
    min: 1,
  }),
  'http.first_request_timeout': durationOption({
    doc: 'An HTTPS connection that has sent no request this long after its TLS handshake is closed.',
    env: 'VIGO_HTTP_FIRST_REQUEST_TIMEOUT',
    default: '30s',
  }),
  'http.max_body_bytes_in_flight_per_client': integerOption({
    doc: 'Request-body bytes one client address (IPv4, or IPv6 /64) may have in flight at once; beyond it 429.',
    env: 'VIGO_HTTP_MAX_BODY_BYTES_IN_FLIGHT_PER_CLIENT',
    default: 134_217_728,
    min: 1,
  }),
  'http.max_body_bytes_in_flight': integerOption({
    doc: 'Request-body bytes all clients together may have in flight at once; beyond it 503.',
    env: 'VIGO_HTTP_MAX_BODY_BYTES_IN_FLIGHT',
    default: 268_435_456,
    min: 1,
  }),
  'publish.approval': choiceOption({
    doc: 'Whether a publish needs a second admin: "required" holds it pending until another admin approves it.',
    env: 'VIGO_PUBLISH_APPROVAL',
    values: ['none', 'required'],
    default: 'none',
    reloadable: true,
  }),
  'publish.at_start': booleanOption({
    doc: 'Publish server.stacks_dir at start-up when it differs from the active configuration.',
    env: 'VIGO_PUBLISH_AT_START',
    flag: 'publish-at-start',
    default: false,
  }),
  'publish.max_upload_bytes': integerOption({
    doc: 'Largest stacks tree a publish or validate request may upload, in bytes.',
    env: 'VIGO_PUBLISH_MAX_UPLOAD_BYTES',
    default: 67_108_864,
    min: 1024,
  }),
  'publish.validate_timeout': durationOption({
    doc: 'Longest one stacks validation (validate, publish, start-up publish) may run in its worker before it is stopped.',
    env: 'VIGO_PUBLISH_VALIDATE_TIMEOUT',
    default: '60s',
    reloadable: true,
  }),
  'publish.validate_max_heap_mb': integerOption({
    doc: 'Heap of the worker thread that validates and compiles stacks, in MiB; a stack that needs more is refused.',
    env: 'VIGO_PUBLISH_VALIDATE_MAX_HEAP_MB',
    default: 1024,
    min: 32,
    reloadable: true,
  }),
  'publish.validate_queue': integerOption({
    doc: 'Validations that may wait behind the running one; more are refused as busy with Retry-After.',
    env: 'VIGO_PUBLISH_VALIDATE_QUEUE',
    default: 4,
    min: 0,
    reloadable: true,
  }),
  'publish.url_check.enabled': booleanOption({
    doc: 'Probe every literal http(s) source: URL at publish and validate (HEAD, then GET when HEAD is refused); an unreachable URL is an error. Turn off on air-gapped sites.',
    env: 'VIGO_PUBLISH_URL_CHECK_ENABLED',
    default: true,
    reloadable: true,
  }),
  'publish.url_check.timeout': durationOption({
    doc: 'How long one URL probe may wait for an answer before the URL counts as unreachable.',
    env: 'VIGO_PUBLISH_URL_CHECK_TIMEOUT',
    default: '5s',
    reloadable: true,
  }),
  'publish.url_check.concurrency': integerOption({
    doc: 'URL probes in flight at once.',
    env: 'VIGO_PUBLISH_URL_CHECK_CONCURRENCY',
    default: 8,
    min: 1,
    max: 64,
    reloadable: true,
  }),
  'publish.url_check.budget': durationOption({
    doc: 'Time all URL probes of one validation may take together; URLs not probed by then get a url.unchecked warning.',
    env: 'VIGO_PUBLISH_URL_CHECK_BUDGET',
    default: '30s',
    reloadable: true,
  }),
  'publish.protected_paths': listOption({
    doc: "Absolute paths no resource may manage, besides the server's and agent's own files (its data dir, the package, /srv/vigo, the units): guard.protected_path.",
    env: 'VIGO_PUBLISH_PROTECTED_PATHS',
    default: [],
    reloadable: true,
    item: {
      item: 'an absolute path',
      items: 'absolute paths',
      accepts: (p) => p.startsWith('/') && p.length > 1 && p.length <= 4096 && !p.includes('\0'),
    },
  }),
  'publish.blast_radius.min_convergence_pct': integerOption({
    doc: 'Blast-radius auto-rollback: when fewer than this percent of the envoys that reported on a new version are converged, the server rolls back to the version before it (0: off).',
    env: 'VIGO_PUBLISH_BLAST_RADIUS_MIN_CONVERGENCE_PCT',
    default: 0,
    min: 0,
    max: 100,
    reloadable: true,
  }),
  'publish.blast_radius.window': durationOption({
    doc: 'How long after a version is activated the blast-radius check watches the envoys that report on it.',
    env: 'VIGO_PUBLISH_BLAST_RADIUS_WINDOW',
    default: '30m',
    reloadable: true,
  }),
  'publish.blast_radius.min_envoys': integerOption({
    doc: 'Envoys that must have reported on a new version before the blast-radius check judges it.',
    env: 'VIGO_PUBLISH_BLAST_RADIUS_MIN_ENVOYS',
    default: 3,
    min: 1,
    reloadable: true,
  }),
  'exports.siem': booleanOption({
    doc: 'Serve the SIEM export: GET /api/v1/export/siem streams events and audit entries as ECS ndjson (docs/exports.md).',
    env: 'VIGO_EXPORTS_SIEM',
    default: false,
    reloadable: true,
  }),
  'exports.cmdb': booleanOption({
    doc: 'Serve the CMDB export: GET /api/v1/export/cmdb lists the envoy inventory as JSON or CSV (docs/exports.md).',
    env: 'VIGO_EXPORTS_CMDB',
    default: false,
    reloadable: true,
  }),
  'auth.session_idle_timeout': durationOption({
    doc: 'A web session unused for this long ends (Vigo\'s key; "15m" suits HIPAA); "0s" keeps sessions until they expire.',
    env: 'VIGO_AUTH_SESSION_IDLE_TIMEOUT',
    default: '30m',
    allowZero: true,
    reloadable: true,
  }),
  'audit.checkpoint_interval': durationOption({
    doc: 'How often a signed audit checkpoint goes to audit.checkpoint_file and audit.checkpoint_webhook (one at start too); "0" turns them off.',
    env: 'VIGO_AUDIT_CHECKPOINT_INTERVAL',
    default: '1h',
    allowZero: true,
  }),
  'audit.checkpoint_file': pathOption({
    doc: 'File that each periodic audit checkpoint is appended to as one JSON line; keep a copy off this host.',
    env: 'VIGO_AUDIT_CHECKPOINT_FILE',
    what: 'file',
    defaultText: '"" (<data_dir>/audit-checkpoints.jsonl)',
    defaultValue: () => '',
    emptyMeans: '<data_dir>/audit-checkpoints.jsonl',
  }),
  'audit.checkpoint_webhook': textOption({
    doc: 'http(s) URL each periodic audit checkpoint is POSTed to as JSON; "" sends none.',
    env: 'VIGO_AUDIT_CHECKPOINT_WEBHOOK',
    expected: 'an http:// or https:// URL, or ""',
    accepts: (text) => text === '' || isWebhookUrl(text),
    defaultText: '""',
    defaultValue: () => '',
  }),
  integrations: structuredOption<readonly IntegrationTarget[]>({
    doc: 'Event sinks: a list of targets (webhook, email, syslog, splunk_hec, loki, elastic) that matching events are delivered to through a durable queue; docs/integrations.md lists every option.',
    env: 'VIGO_INTEGRATIONS',
    expected: 'a list of integration targets',
    defaultRaw: [],
    read: (raw, baseDir) => {
      const { targets, problems } = parseIntegrationTargets(raw, baseDir);
      return { value: targets, problems: problems.map((p) => p.replace(/^integrations(?=\[)/, '')) };
    },
  }),
  ...dataOptions,
} as const satisfies Record<string, ConfigOption<unknown>>;

export type ConfigKey = keyof typeof configRegistry;

/** vigosrv's typed configuration, keyed by dotted key: `cfg['server.grpc_listen'].port`. */
export type ServerConfig = {
  readonly [K in ConfigKey]: ReturnType<(typeof configRegistry)[K]['parse']>;
};

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export const configKeys: readonly ConfigKey[] = Object.keys(configRegistry) as ConfigKey[];

/**
 * Keys a SIGHUP reload applies at runtime; every other key needs a restart. Holds ConfigKeys, typed as
 * strings so callers can test any key name without a cast.
 */
export const reloadableKeys: ReadonlySet<string> = new Set<string>(
  configKeys.filter((key) => configRegistry[key].reloadable),
);

/** The registry entry for a key, typed loosely for code that walks every option. */
export function optionFor(key: ConfigKey): ConfigOption<unknown> {
  return configRegistry[key];
}
