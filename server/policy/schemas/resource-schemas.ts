/**
 * JSON Schema (draft-07, for ajv) of every built-in resource type. The server validates stacks with
 * them and the reference agent validates bundle resources with the same objects, so a field accepted
 * here is a field some executor understands. docs/stacks.md lists every field.
 */

import { xplatTypeSpecs } from './xplat-schemas.ts';
import { unixResourceTypeSpecs } from './unix-schemas.ts';
import { absPath, bool, mode, nonEmpty, owner, presentAbsent, str } from './schema-atoms.ts';
import type { Schema } from './schema-atoms.ts';

const strList: Schema = { type: 'array', items: { type: 'string' } };
const refList: Schema = {
  type: ['string', 'array'],
  items: { type: 'string', minLength: 1 },
  description: 'a resource name, `configcrate/resource`, or a list of them',
};
const cronField: Schema = { type: ['string', 'integer'] };

/** Keys every resource accepts, whatever its type. */
export const commonResourceProperties: Readonly<Record<string, Schema>> = {
  name: nonEmpty,
  type: {
    type: 'string',
    pattern: '^[a-z][a-z0-9_]*$',
    description: 'must be a lowercase type name such as file',
  },
  description: str,
  depends_on: refList,
  before: refList,
  notify: refList,
  subscribes: refList,
  when: nonEmpty,
  foreach: { type: ['string', 'array'], description: 'a list variable name or an inline list' },
  case: {
    type: 'object',
    propertyNames: { pattern: '^[a-z0-9][a-z0-9_.-]*$' },
    additionalProperties: { type: 'object' },
    description: 'maps a lowercase OS family or distro (or "default") to field overrides',
  },
  revert: bool,
  on_revert: { type: 'object' },
  skip_validation: bool,
};

const pathFields: Record<string, Schema> = { target_path: absPath, path: absPath };
const fileAttrs: Record<string, Schema> = { owner, group: owner, mode };
const needsPath = [{ required: ['target_path'] }, { required: ['path'] }];
const editFields: Record<string, Schema> = {
  ...pathFields,
  ...fileAttrs,
  state: presentAbsent,
  create: bool,
};

interface TypeSpec {
  properties: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
}

/** Type-specific fields. The names follow Vigo's stacks (target_path, mode as "0640", service:…). */
export const resourceTypeSpecs: Readonly<Record<string, TypeSpec>> = {
  file: {
    properties: {
      ...pathFields,
      ...fileAttrs,
      content: str,
      source: nonEmpty,
      state: presentAbsent,
      backup: bool,
    },
    anyOf: needsPath,
  },
  directory: {
    properties: { ...pathFields, ...fileAttrs, state: presentAbsent, recurse: bool, purge: bool },
    anyOf: needsPath,
  },
  symlink: {
    properties: { ...pathFields, owner, group: owner, link_to: nonEmpty, state: presentAbsent, force: bool },
    anyOf: needsPath,
  },
  exec: {
    properties: {
      command: nonEmpty,
      onlyif: nonEmpty,
      unless: nonEmpty,
      creates: absPath,
      timeout: { type: 'integer', minimum: 1, description: 'seconds' },
      user: str,
      group: str,
      cwd: absPath,
      env: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    },
    required: ['command'],
  },
  file_line: {
    properties: {
      ...editFields,
      line: str,
      match: nonEmpty,
      insert_after: nonEmpty,
      insert_before: nonEmpty,
    },
    anyOf: needsPath,
  },
  blockinfile: {
    properties: {
      ...editFields,
      block: str,
      marker: nonEmpty,
      insert_after: nonEmpty,
      insert_before: nonEmpty,
    },
    anyOf: needsPath,
  },
  replace: {
    properties: { ...pathFields, ...fileAttrs, pattern: nonEmpty, replacement: str },
    required: ['pattern', 'replacement'],
    anyOf: needsPath,
  },
  ini: {
    properties: {
      ...editFields,
      section: str,
      key: nonEmpty,
      value: { type: ['string', 'number', 'boolean'] },
    },
    required: ['key'],
    anyOf: needsPath,
  },
  json_file: {
    properties: { ...editFields, key: nonEmpty, value: {} },
    required: ['key'],
    anyOf: needsPath,
  },
  package: {
    properties: {
      package: nonEmpty,
      names: { type: 'array', items: nonEmpty, minItems: 1 },
      state: { enum: ['present', 'absent', 'latest'] },
      version: nonEmpty,
      provider: { enum: ['apt', 'dnf', 'apk', 'yum', 'zypper', 'pacman'] },
    },
    anyOf: [{ required: ['package'] }, { required: ['names'] }, { required: ['name'] }],
  },
  service: {
    properties: {
      service: nonEmpty,
      state: { enum: ['running', 'stopped', 'restarted', 'reloaded'] },
      enabled: bool,
      provider: { enum: ['systemd', 's6', 'pebble', 'vigil', 'systemg'] },
    },
    anyOf: [{ required: ['service'] }, { required: ['name'] }],
  },
  user: {
    properties: {
      user: nonEmpty,
      uid: { type: 'integer', minimum: 0 },
      group: str,
      groups: strList,
      home: absPath,
      shell: absPath,
      comment: str,
      system: bool,
      state: presentAbsent,
      password: str,
      authorized_keys: strList,
      sudo_nopasswd: bool,
      manage_home: bool,
    },
    anyOf: [{ required: ['user'] }, { required: ['name'] }],
  },
  group: {
    properties: {
      group: nonEmpty,
      gid: { type: 'integer', minimum: 0 },
      system: bool,
      members: strList,
      state: presentAbsent,
    },
    anyOf: [{ required: ['group'] }, { required: ['name'] }],
  },
  cron: {
    properties: {
      command: nonEmpty,
      user: str,
      minute: cronField,
      hour: cronField,
      day: cronField,
      month: cronField,
      weekday: cronField,
      special: { enum: ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'] },
      state: presentAbsent,
    },
    required: ['command'],
  },
  sysctl: {
    properties: { key: nonEmpty, value: { type: ['string', 'number'] }, persist: bool, state: presentAbsent },
    required: ['key'],
  },
  host: {
    properties: { ip: nonEmpty, hostname: nonEmpty, aliases: strList, state: presentAbsent },
    required: ['ip', 'hostname'],
  },
  container: {
    properties: {
      container: nonEmpty,
      image: nonEmpty,
      state: { enum: ['running', 'stopped', 'present', 'absent'] },
      ports: { type: ['string', 'array'], items: str },
      command: str,
      restart: { enum: ['no', 'always', 'on-failure', 'unless-stopped'] },
      env: { type: ['string', 'array', 'object'] },
      volumes: { type: ['string', 'array'], items: str },
      network: nonEmpty,
    },
    anyOf: [{ required: ['container'] }, { required: ['name'] }],
  },
  custom: {
    properties: {
      executor: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9_-]*$',
        description: 'must name an executor script, e.g. my_check',
      },
      params: { type: 'object' },
      timeout: { type: 'integer', minimum: 1, description: 'seconds' },
    },
    required: ['executor'],
  },
  ...xplatTypeSpecs,
  ...unixResourceTypeSpecs,
};

function buildSchema(type: string, spec: TypeSpec): Schema {
  const schema: Schema = {
    $id: `https://vigo.invalid/schemas/resource/${type}.json`,
    title: `${type} resource`,
    type: 'object',
    properties: { ...commonResourceProperties, ...spec.properties },
    required: ['type', ...(spec.required ?? [])],
    additionalProperties: false,
  };
  if (spec.anyOf) schema.anyOf = spec.anyOf;
  return schema;
}

/** One JSON Schema per built-in type, keyed by type name. */
export const resourceSchemas: Readonly<Record<string, Readonly<Schema>>> = Object.fromEntries(
  Object.entries(resourceTypeSpecs).map(([type, spec]) => [type, buildSchema(type, spec)]),
);

export const knownResourceTypes: readonly string[] = Object.keys(resourceTypeSpecs).sort();

/** Type fields a `defaults:`, `case:` or `on_revert:` block may set for `type`. */
export function typeFieldNames(type: string): string[] {
  const spec = resourceTypeSpecs[type];
  return spec ? Object.keys(spec.properties) : [];
}

/** Fields ajv knows as plain strings, where YAML numbers like `0644` are read back as their source text. */
/** Boolean fields of `type` (common ones included), where YAML 1.1 words like `yes` are accepted. */
// Asked for every resource of a stacks tree: computed once per type.
const booleanFields = new Map<string, ReadonlySet<string>>();
const stringFields = new Map<string, ReadonlySet<string>>();

export function booleanFieldNames(type: string): ReadonlySet<string> {
  let names = booleanFields.get(type);
  if (!names) {
    const props = { ...commonResourceProperties, ...(resourceTypeSpecs[type]?.properties ?? {}) };
    names = new Set(Object.entries(props).flatMap(([k, s]) => (s.type === 'boolean' ? [k] : [])));
    if (resourceTypeSpecs[type]) booleanFields.set(type, names);
  }
  return names;
}

/** YAML 1.1 booleans (yes/no/on/off), which Vigo's loader accepts for boolean fields. */
export function yaml11Boolean(v: unknown): boolean | undefined {
  if (typeof v !== 'string') return undefined;
  const w = v.toLowerCase();
  return w === 'yes' || w === 'on' ? true : w === 'no' || w === 'off' ? false : undefined;
}

export function stringFieldNames(type: string): ReadonlySet<string> {
  let names = stringFields.get(type);
  if (!names) {
    const out = new Set<string>();
    const spec = resourceTypeSpecs[type];
    if (!spec) return out;
    for (const [k, s] of Object.entries(spec.properties)) if (s.type === 'string') out.add(k);
    stringFields.set(type, (names = out));
  }
  return names;
}
