/**
 * The options of each target type (docs/integrations.md lists them with their defaults). Paths to CA files
 * are read at start-up, so a missing file fails the start rather than every delivery.
 */
import type { FieldReader, SecretRef } from './config.ts';
import { integrationLimits } from './config.ts';

/** How an HTTP target authenticates: none, HTTP basic (username + password) or a header token. */
export type HttpAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: SecretRef }
  | { readonly kind: 'bearer'; readonly token: SecretRef }
  | { readonly kind: 'api_key'; readonly apiKey: SecretRef };

export interface WebhookOptions {
  readonly type: 'webhook';
  readonly url: string;
  readonly secret: SecretRef;
  readonly caFile: string | undefined;
}

export interface EmailOptions {
  readonly type: 'email';
  readonly host: string;
  readonly port: number;
  readonly requireTls: boolean;
  readonly caFile: string | undefined;
  readonly username: string | undefined;
  readonly password: SecretRef | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly digestWindowMs: number;
}

/** RFC 5424 facility names and codes. */
export const syslogFacilities = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacility = keyof typeof syslogFacilities;

export interface SyslogOptions {
  readonly type: 'syslog';
  readonly host: string;
  readonly port: number;
  readonly transport: 'tcp' | 'tls';
  readonly caFile: string | undefined;
  readonly facility: SyslogFacility;
  readonly appName: string;
  readonly hostname: string | undefined;
}

export interface SplunkHecOptions {
  readonly type: 'splunk_hec';
  readonly url: string;
  readonly token: SecretRef;
  readonly index: string | undefined;
  readonly source: string;
  readonly sourcetype: string;
  readonly caFile: string | undefined;
}

export interface LokiOptions {
  readonly type: 'loki';
  readonly url: string;
  readonly auth: HttpAuth;
  readonly tenant: string | undefined;
  readonly caFile: string | undefined;
}

export interface ElasticOptions {
  readonly type: 'elastic';
  readonly url: string;
  readonly index: string;
  readonly auth: HttpAuth;
  readonly caFile: string | undefined;
}

export type TypeOptions = (
  WebhookOptions | EmailOptions | SyslogOptions | SplunkHecOptions | LokiOptions | ElasticOptions
) & { readonly batchSize: number };

const emailPattern = /^[^\s@<>",;]{1,64}@[A-Za-z0-9.-]{1,190}$/;
const appNamePattern = /^[!-~]{1,48}$/;
const indexPattern = /^[a-z0-9][a-z0-9._-]{0,200}$/;

function email(r: FieldReader, key: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (emailPattern.test(text)) return text;
  r.problem(
    key,
    `expected an e-mail address such as ops@example.com, got ${JSON.stringify(text.slice(0, 80))}`,
  );
  return undefined;
}

/** Basic (username + password), a bearer token, or (Elastic) an API key; at most one kind. */
function httpAuth(r: FieldReader, allowApiKey: boolean): HttpAuth | undefined {
  const username = r.optionalString('username');
  const password = r.secret('password', username !== undefined);
  const token = r.secret('token', false);
  const apiKey = allowApiKey ? r.secret('api_key', false) : undefined;
  const kinds = [username ?? password, token, apiKey].filter((v) => v !== undefined).length;
  if (kinds > 1) {
    r.problem('token', 'give one kind of credential: username and password, token, or api_key');
    return undefined;
  }
  if (password !== undefined && username === undefined) {
    r.problem('username', 'is required with password');
    return undefined;
  }
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  if (token !== undefined) return { kind: 'bearer', token };
  if (apiKey !== undefined) return { kind: 'api_key', apiKey };
  return { kind: 'none' };
}

function batch(r: FieldReader, fallback: number): number {
  return r.integer('batch_size', fallback, 1, integrationLimits.maxBatch);
}

/** Reads the type's own keys; undefined when one of them is missing or wrong (the reader has the problem). */
export function readTargetOptions(type: TypeOptions['type'], r: FieldReader): TypeOptions | undefined {
  const caFile = r.optionalPath('ca_file');
  switch (type) {
    case 'webhook': {
      const url = r.url('url');
      const secret = r.secret('secret', true);
      if (url === undefined || secret === undefined) return undefined;
      return { type, url, secret, caFile, batchSize: 1 };
    }
    case 'email': {
      const host = r.host('host');
      const port = r.integer('port', 587, 1, 65_535);
      const requireTls = r.boolean('require_tls', true);
      const username = r.optionalString('username');
      const password = r.secret('password', username !== undefined);
      const from = email(r, 'from', r.string('from'));
      const to = r.stringList('to', undefined, 50).map((address) => email(r, 'to', address));
      const digestWindowMs = r.duration('digest_window', '1m', 0);
      const batchSize = batch(r, 200);
      if (host === undefined || from === undefined || to.length === 0) return undefined;
      const recipients = to.filter((address): address is string => address !== undefined);
      if (recipients.length !== to.length) return undefined;
      return {
        type,
        host,
        port,
        requireTls,
        caFile,
        username,
        password,
        from,
        to: recipients,
        digestWindowMs,
        batchSize,
      };
    }
    case 'syslog': {
      const host = r.host('host');
      const port = r.integer('port', 6514, 1, 65_535);
      const transport = r.choice('transport', ['tls', 'tcp'], 'tls');
      const facilityNames = Object.keys(syslogFacilities) as SyslogFacility[];
      const facility = r.choice('facility', facilityNames, 'daemon');
      const appName = r.string('app_name', 'vigosrv');
      if (appName !== undefined && !appNamePattern.test(appName))
        r.problem(
          'app_name',
          'expected 1 to 48 printable ASCII characters without spaces (RFC 5424 APP-NAME)',
        );
      const hostname = r.optionalString('hostname');
      const batchSize = batch(r, 100);
      if (host === undefined || appName === undefined || !appNamePattern.test(appName)) return undefined;
      return { type, host, port, transport, caFile, facility, appName, hostname, batchSize };
    }
    case 'splunk_hec': {
      const url = r.url('url');
      const token = r.secret('token', true);
      const index = r.optionalString('index');
      const source = r.string('source', 'vigosrv') ?? 'vigosrv';
      const sourcetype = r.string('sourcetype', 'vigo:event') ?? 'vigo:event';
      const batchSize = batch(r, 100);
      if (url === undefined || token === undefined) return undefined;
      return { type, url, token, index, source, sourcetype, caFile, batchSize };
    }
    case 'loki': {
      const url = r.url('url');
      const auth = httpAuth(r, false);
      const tenant = r.optionalString('tenant');
      const batchSize = batch(r, 100);
      if (url === undefined || auth === undefined) return undefined;
      return { type, url, auth, tenant, caFile, batchSize };
    }
    case 'elastic': {
      const url = r.url('url');
      const index = r.string('index', 'vigo-events');
      if (index !== undefined && !indexPattern.test(index))
        r.problem('index', 'expected a lower-case Elasticsearch index name such as "vigo-events"');
      const auth = httpAuth(r, true);
      const batchSize = batch(r, 100);
      if (url === undefined || auth === undefined || index === undefined || !indexPattern.test(index))
        return undefined;
      return { type, url, index, auth, caFile, batchSize };
    }
  }
}
