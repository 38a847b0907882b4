/** JSON Schemas of the stacks files themselves (configcrates, roles, common, environments, hostcrates). */

type Schema = Record<string, unknown>;

const crateName: Schema = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"',
};
const nameList: Schema = { type: 'array', items: { type: 'string', minLength: 1 } };
const vars: Schema = { type: 'object' };
const caseKey: Schema = {
  pattern: '^[a-z0-9][a-z0-9_.-]*$',
  description: 'case keys are lowercase OS families or distros (debian, rhel, ubuntu…) or "default"',
};

export const configcrateFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/configcrate.json',
  type: 'object',
  properties: {
    name: crateName,
    configcrate: crateName,
    description: { type: 'string' },
    vars,
    defaults: { type: 'object' },
    resources: { type: 'array', items: { type: 'object' } },
    // Checked in full by parse-compliance.ts, with a diagnostic per framework and control id.
    compliance: {},
    depends_on: { type: ['string', 'array'], items: crateName },
    foreach: { type: ['string', 'array'] },
    when: { type: 'string', minLength: 1 },
  },
  additionalProperties: false,
};

const roleProperties: Record<string, Schema> = {
  description: { type: 'string' },
  configcrates: nameList,
  case: { type: 'object', propertyNames: caseKey, additionalProperties: nameList },
  includes: nameList,
};

export const rolesFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/roles.json',
  type: 'object',
  properties: {
    roles: {
      type: 'object',
      propertyNames: crateName,
      additionalProperties: { type: 'object', properties: roleProperties, additionalProperties: false },
    },
  },
  required: ['roles'],
  additionalProperties: false,
};

export const roleFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/role.json',
  type: 'object',
  properties: { name: crateName, ...roleProperties },
  required: ['name'],
  additionalProperties: false,
};

export const commonFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/common.json',
  type: 'object',
  properties: { description: { type: 'string' }, configcrates: nameList, roles: nameList, vars },
  additionalProperties: false,
};

export const environmentsFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/environments.json',
  type: 'object',
  properties: {
    env: {
      type: 'object',
      propertyNames: crateName,
      additionalProperties: {
        type: 'object',
        properties: {
          description: { type: 'string' },
          vars,
          configcrates: nameList,
          exclude_configcrates: nameList,
        },
        additionalProperties: false,
      },
    },
  },
  required: ['env'],
  additionalProperties: false,
};

const matchEntryProperties: Record<string, Schema> = {
  match: {
    type: ['string', 'array'],
    minLength: 1,
    minItems: 1,
    items: { type: 'string', minLength: 1 },
    description: 'a hostname glob such as "web-*.example.com" or a list of them',
  },
  description: { type: 'string' },
  environment: crateName,
  roles: nameList,
  configcrates: nameList,
  vars,
  observe_only: { type: 'boolean' },
  usercrates: nameList,
};

export const matchEntrySchema: Schema = {
  $id: 'https://vigo.invalid/schemas/match-entry.json',
  type: 'object',
  properties: matchEntryProperties,
  required: ['match'],
  additionalProperties: false,
};

export const hostcrateFileSchema: Schema = {
  $id: 'https://vigo.invalid/schemas/hostcrate.json',
  type: 'object',
  properties: { envoys: { type: 'array', items: { type: 'object' } } },
  required: ['envoys'],
  additionalProperties: false,
};

/** Old names from Vigo's previous vocabulary, so the hint can say what the key is called now. */
export const legacyKeyHints: Readonly<Record<string, string>> = {
  modules: '"modules:" is the old name; use "configcrates:"',
  exclude_modules: '"exclude_modules:" is the old name; use "exclude_configcrates:"',
  nodes: '"nodes:" is the old name; use "envoys:"',
  module: '"module:" is the old name; use "name:" (or "configcrate:")',
  observe: 'the key is "observe_only:"',
};
