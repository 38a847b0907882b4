/**
 * JSON Schemas of the cross-platform resource types (field_edit, sshkey, process, git, language
 * packages, package files, repositories, reboot, containers). resource-schemas.ts merges them into the
 * one table the server and the agent validate with; docs/stacks.md documents every field.
 */

import { absPath, bool, mode, nonEmpty, owner, presentAbsent, str } from './schema-atoms.ts';
import type { Schema, TypeSpec } from './schema-atoms.ts';

const pathFields: Record<string, Schema> = { target_path: absPath, path: absPath };
const needsPath = [{ required: ['target_path'] }, { required: ['path'] }];

const langPackage: Record<string, Schema> = {
  package: nonEmpty,
  version: { type: ['string', 'number'] },
  source: {
    type: 'string',
    pattern: '^(/|https?://|.*\\{\\{)',
    description: 'an absolute path or an http(s) URL',
  },
  state: presentAbsent,
  timeout: { type: 'integer', minimum: 1, description: 'seconds' },
};

const sha256: Schema = {
  type: 'string',
  pattern: '^((sha256:)?[0-9a-fA-F]{64}|.*\\{\\{.*)$',
  description: 'must be a SHA-256 digest: 64 hex digits, optionally prefixed "sha256:"',
};

const packageFile: TypeSpec = {
  properties: {
    package: nonEmpty,
    source: langPackage.source as Schema,
    checksum: sha256,
    version: { type: ['string', 'number'] },
    provider: { enum: ['dpkg', 'rpm', 'apk'] },
    state: presentAbsent,
    timeout: { type: 'integer', minimum: 1, description: 'seconds' },
  },
  required: ['package'],
};

const containerRuntime: Schema = { enum: ['docker', 'podman'] };

export const xplatTypeSpecs: Readonly<Record<string, TypeSpec>> = {
  field_edit: {
    properties: {
      ...pathFields,
      owner,
      group: owner,
      mode,
      key: nonEmpty,
      value: { type: ['string', 'number', 'boolean'] },
      separator: nonEmpty,
      field: { type: 'integer', minimum: 1, maximum: 1000 },
      key_field: { type: 'integer', minimum: 1, maximum: 1000 },
      comment: str,
      state: presentAbsent,
      create: bool,
    },
    required: ['key'],
    anyOf: needsPath,
  },
  sshkey: {
    properties: {
      ...pathFields,
      user: nonEmpty,
      key: nonEmpty,
      options: str,
      comment: str,
      exclusive: bool,
      state: presentAbsent,
      owner,
      group: owner,
      mode,
    },
    required: ['key'],
    anyOf: [{ required: ['user'] }, ...needsPath],
  },
  process: {
    properties: {
      pattern: nonEmpty,
      state: { enum: ['running', 'stopped'] },
      start: nonEmpty,
      stop: nonEmpty,
      user: nonEmpty,
      cwd: absPath,
      timeout: { type: 'integer', minimum: 1, maximum: 3600, description: 'seconds' },
    },
    required: ['pattern'],
  },
  git: {
    properties: {
      ...pathFields,
      repo: nonEmpty,
      revision: nonEmpty,
      depth: { type: 'integer', minimum: 1 },
      force: bool,
      user: nonEmpty,
      timeout: { type: 'integer', minimum: 1, description: 'seconds, per git command' },
    },
    required: ['repo'],
    anyOf: needsPath,
  },
  npm: {
    properties: { ...langPackage, prefix: absPath },
    required: ['package'],
  },
  pip: {
    properties: { ...langPackage, python: nonEmpty, target: absPath },
    required: ['package'],
  },
  gem: {
    properties: { ...langPackage, gem: nonEmpty, install_dir: absPath },
    required: ['package'],
  },
  nonrepo_package: packageFile,
  source_package: packageFile,
  repository: {
    properties: {
      repository: { type: 'string', pattern: '^([A-Za-z0-9][A-Za-z0-9._-]*|.*\\{\\{.*)$' },
      provider: { enum: ['apt', 'dnf', 'apk'] },
      url: nonEmpty,
      distribution: nonEmpty,
      components: { type: ['string', 'array'], items: nonEmpty },
      arch: { type: ['string', 'array'], items: nonEmpty },
      key: nonEmpty,
      key_url: nonEmpty,
      key_checksum: sha256,
      enabled: bool,
      gpgcheck: bool,
      update: bool,
      state: presentAbsent,
    },
    required: ['repository'],
  },
  reboot: {
    properties: {
      reason: { type: 'string', minLength: 1, maxLength: 200 },
      onlyif: nonEmpty,
      unless: nonEmpty,
      delay: { type: 'integer', minimum: 0, maximum: 1440, description: 'minutes' },
    },
    required: ['reason'],
    anyOf: [{ required: ['onlyif'] }, { required: ['unless'] }],
  },
  docker_image: {
    properties: {
      image: nonEmpty,
      state: { enum: ['present', 'latest', 'absent'] },
      runtime: containerRuntime,
      timeout: { type: 'integer', minimum: 1, description: 'seconds' },
    },
    required: ['image'],
  },
  docker_container: {
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
      runtime: containerRuntime,
      timeout: { type: 'integer', minimum: 1, description: 'seconds' },
    },
    required: ['container'],
  },
  docker_compose: {
    properties: {
      ...pathFields,
      project: nonEmpty,
      state: presentAbsent,
      pull: bool,
      runtime: containerRuntime,
      timeout: { type: 'integer', minimum: 1, description: 'seconds' },
    },
    anyOf: needsPath,
  },
};
