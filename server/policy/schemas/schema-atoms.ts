/**
 * The JSON Schema pieces every resource-type table is built from (resource-schemas.ts and the tables it
 * merges), so a path, a mode or an owner is checked alike in every type.
 */

export type Schema = Record<string, unknown>;

/** One resource type: its fields, the required ones, and alternatives (e.g. target_path or path). */
export interface TypeSpec {
  properties: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
}

export const str: Schema = { type: 'string' };
export const nonEmpty: Schema = { type: 'string', minLength: 1 };
export const bool: Schema = { type: 'boolean' };
export const presentAbsent: Schema = { enum: ['present', 'absent'] };
export const absPath: Schema = {
  type: 'string',
  pattern: '^(/|[A-Za-z]:[\\\\/]|.*\\{\\{)',
  description: 'must be an absolute path such as /etc/motd',
};
export const mode: Schema = {
  type: 'string',
  pattern: '^(0?[0-7]{3,4}|.*\\{\\{.*)$',
  description: 'must be an octal file mode written as a string, e.g. "0644"',
};
export const owner: Schema = { type: ['string', 'integer'] };
