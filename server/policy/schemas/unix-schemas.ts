/**
 * Schemas of the Unix and Linux resource types (systemd drop-ins, tmpfiles.d, logrotate, host name,
 * time zone, mounts, swap, kernel modules, firewall rules, alternatives, SELinux). Field names follow
 * Vigo's stacks; Vigo's `path` reaches the agent as `target_path`. resource-schemas.ts includes them.
 */

import { bool, nonEmpty, presentAbsent, str } from './schema-atoms.ts';
import type { Schema, TypeSpec } from './schema-atoms.ts';

export type UnixTypeSpec = TypeSpec;

const absPath: Schema = {
  type: 'string',
  pattern: '^(/|.*\\{\\{)',
  description: 'must be an absolute path such as /var/log/app',
};
const pathFields: Record<string, Schema> = { target_path: absPath, path: absPath };
/** Vigo's examples quote booleans and numbers ("true", "7"); both spellings are accepted. */
const flag: Schema = { type: ['boolean', 'string'], pattern: '^(true|false|yes|no|.*\\{\\{.*)$' };
const count: Schema = { type: ['integer', 'string'], minimum: 0, pattern: '^([0-9]+|.*\\{\\{.*)$' };
const fileName: Schema = {
  type: 'string',
  pattern: '^([A-Za-z0-9_@][A-Za-z0-9_@.:+-]*|.*\\{\\{.*)$',
  description: 'a file name: letters, digits and _ @ . : + -, not starting with "-" or "."',
};

export const unixResourceTypeSpecs: Readonly<Record<string, UnixTypeSpec>> = {
  systemd_dropin: {
    properties: {
      unit: fileName,
      dropin: fileName,
      content: str,
      state: presentAbsent,
      daemon_reload: bool,
    },
    required: ['unit'],
  },
  tmpfile: {
    properties: {
      ...pathFields,
      state: presentAbsent,
      entry_type: {
        type: 'string',
        pattern: '^([fwdDevqQpLcbCxXrRzZtThHaA][+!=~^-]{0,3}|.*\\{\\{.*)$',
        description: 'a tmpfiles.d type such as d, D, f, L+',
      },
      mode: { type: 'string', pattern: '^(-|[~:]?[0-7]{3,4}|.*\\{\\{.*)$' },
      user: nonEmpty,
      group: nonEmpty,
      age: { type: ['string', 'integer'] },
      argument: str,
    },
  },
  logrotate: {
    properties: {
      ...pathFields,
      state: presentAbsent,
      frequency: { enum: ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] },
      rotate: count,
      compress: flag,
      delaycompress: flag,
      missingok: flag,
      notifempty: flag,
      copytruncate: flag,
      size: { type: ['string', 'integer'] },
      maxage: count,
      create: nonEmpty,
      postrotate: str,
    },
  },
  hostname: {
    properties: {
      hostname: {
        type: 'string',
        pattern: '^([A-Za-z0-9][A-Za-z0-9.-]{0,63}|.*\\{\\{.*)$',
        description: 'a host name: letters, digits, "-" and dots, at most 64 characters',
      },
    },
    required: ['hostname'],
  },
  timezone: {
    properties: {
      timezone: { type: 'string', minLength: 1, description: 'a zone such as Europe/Paris or UTC' },
    },
    required: ['timezone'],
  },
  mount: {
    properties: {
      ...pathFields,
      mountpoint: absPath,
      state: { enum: ['mounted', 'present', 'unmounted', 'absent'] },
      device: nonEmpty,
      fstype: nonEmpty,
      options: nonEmpty,
      dump: { type: ['integer', 'string'] },
      pass: { type: ['integer', 'string'] },
    },
    anyOf: [{ required: ['target_path'] }, { required: ['path'] }, { required: ['mountpoint'] }],
  },
  kernel_module: {
    properties: {
      module: { type: 'string', pattern: '^([A-Za-z0-9_][A-Za-z0-9_-]*|.*\\{\\{.*)$' },
      state: { enum: ['present', 'absent', 'blacklisted'] },
      persist: bool,
      options: str,
    },
    anyOf: [{ required: ['module'] }, { required: ['name'] }],
  },
  firewall: {
    properties: {
      port: { type: ['integer', 'string'] },
      proto: { enum: ['tcp', 'udp'] },
      source: nonEmpty,
      action: { enum: ['allow', 'deny', 'reject'] },
      comment: { type: 'string', maxLength: 64 },
      state: presentAbsent,
      policy: { enum: ['accept', 'drop'] },
      provider: { enum: ['nftables'] },
    },
    anyOf: [{ required: ['port'] }, { required: ['policy'] }],
  },
  alternatives: {
    properties: {
      ...pathFields,
      alternative: fileName,
      link: absPath,
      priority: { type: ['integer', 'string'] },
      state: { enum: ['selected', 'present', 'auto', 'absent'] },
    },
    anyOf: [{ required: ['target_path'] }, { required: ['path'] }],
  },
  swap: {
    properties: {
      ...pathFields,
      size: { type: ['string', 'integer'], description: 'e.g. "2G" or "512M" (a bare number is MiB)' },
      priority: { type: ['integer', 'string'] },
      state: presentAbsent,
    },
    anyOf: [{ required: ['target_path'] }, { required: ['path'] }],
  },
  selinux: {
    properties: {
      state: { enum: ['enforcing', 'permissive', 'disabled'] },
      booleans: {
        type: 'object',
        propertyNames: { pattern: '^[a-z0-9_]+$' },
        additionalProperties: { type: ['boolean', 'string', 'integer'] },
      },
      persist: bool,
    },
    anyOf: [{ required: ['state'] }, { required: ['booleans'] }],
  },
};

/** One valid resource per type: the shapes docs/stacks.md shows. */
export const unixResourceExamples: Readonly<Record<string, Record<string, unknown>>> = {
  systemd_dropin: {
    type: 'systemd_dropin',
    name: 'nginx-limits',
    unit: 'nginx.service',
    dropin: 'limits',
    content: '[Service]\nLimitNOFILE=65536\n',
    notify: 'nginx',
  },
  tmpfile: {
    type: 'tmpfile',
    name: 'myapp-runtime',
    path: '/run/myapp',
    entry_type: 'd',
    mode: '0755',
    user: 'myapp',
    group: 'myapp',
    age: '7d',
  },
  logrotate: {
    type: 'logrotate',
    name: 'nginx',
    path: '/var/log/nginx/*.log',
    frequency: 'daily',
    rotate: '14',
    compress: 'true',
    postrotate: '/usr/sbin/nginx -s reload',
  },
  hostname: { type: 'hostname', name: 'Set hostname', hostname: 'web-01.example.com', when: '!is_container' },
  timezone: { type: 'timezone', name: 'Set timezone', timezone: 'America/New_York' },
  mount: {
    type: 'mount',
    name: '/mnt/data',
    path: '/mnt/data',
    device: '/dev/sdb1',
    fstype: 'ext4',
    options: 'defaults,noatime',
  },
  kernel_module: { type: 'kernel_module', module: 'br_netfilter', state: 'present' },
  firewall: {
    type: 'firewall',
    name: 'allow-https',
    port: '443',
    proto: 'tcp',
    action: 'allow',
    source: '10.0.0.0/8',
    comment: 'HTTPS',
  },
  alternatives: {
    type: 'alternatives',
    name: 'editor',
    path: '/usr/bin/vim.basic',
    link: '/usr/bin/editor',
    priority: 50,
  },
  swap: { type: 'swap', name: 'swapfile', path: '/swapfile', size: '2G' },
  selinux: {
    type: 'selinux',
    name: 'selinux',
    state: 'enforcing',
    booleans: { httpd_can_network_connect: 'on' },
  },
};
