/**
 * The agent's config file (default /etc/vigo/agent.yaml): parsed and checked in full at start, so a
 * mistake stops the agent with the file, the key and what was expected, never at the first task. The
 * options are declared once here; agent.example.yaml beside this file documents each (a test loads it).
 */
import fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { VigoError } from '../../server/core/index.ts';
import { builtinTaskNames } from '../tasks/index.ts';
import { defaultTraitSettings, maxCertPaths } from '../traits/settings.ts';
import type { TraitSettings } from '../traits/settings.ts';

import { defaultAgentConfigFile } from './defaults.ts';

export { defaultAgentConfigFile };

export interface AgentConfig {
  /** The file the settings came from, or undefined when defaults apply (no file). */
  readonly file: string | undefined;
  readonly tasks: {
    /** Whether ad-hoc command tasks run on this host. */
    readonly adhoc: boolean;
    /** The agent's own named tasks this host runs. */
    readonly allow: ReadonlySet<string>;
    /** Whether named tasks from the published stacks (in this host's bundle) run. */
    readonly stacks: boolean;
    /** Whether a command forced past the server's guardrail also skips the agent's own command guard. */
    readonly allowForced: boolean;
  };
  /** The `traits:` section: certificates to watch, whether the cloud trait may ask the metadata service. */
  readonly traits: TraitSettings;
}

export const defaultAgentConfig: AgentConfig = {
  file: undefined,
  tasks: { adhoc: true, allow: new Set(builtinTaskNames), stacks: true, allowForced: false },
  traits: defaultTraitSettings,
};

/** A config file the agent cannot start with: code config.invalid, the message names file, line and key. */
export class AgentConfigError extends VigoError {
  constructor(message: string) {
    super('config.invalid', message);
    this.name = 'AgentConfigError';
  }
}

const maxConfigBytes = 64 * 1024;
const knownKeys: Readonly<Record<string, readonly string[]>> = {
  '': ['tasks', 'traits'],
  tasks: ['adhoc', 'allow', 'stacks', 'allow_forced'],
  traits: ['cert_paths', 'cloud_metadata'],
};

/**
 * Loads `file`. A missing file is the defaults when `required` is false (the default path); one named
 * explicitly must exist.
 */
export function loadAgentConfig(file: string, required: boolean): AgentConfig {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > maxConfigBytes)
      throw new AgentConfigError(`${file}: ${size} bytes; an agent config file is at most ${maxConfigBytes}`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof AgentConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return defaultAgentConfig;
    throw new AgentConfigError(`cannot read the agent config ${file}: ${(err as Error).message}`);
  }
  return parseAgentConfig(text, file);
}

export function parseAgentConfig(text: string, file: string): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) throw new AgentConfigError(`${file}: not valid YAML: ${firstError.message}`);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { ...defaultAgentConfig, file };
  const fail = (node: Node | null | undefined, message: string): never => {
    throw new AgentConfigError(`${at(node)}: ${message}`);
  };
  const mapping = (node: Node | null, section: string) => {
    if (!isMap(node)) return fail(node, `${section === '' ? 'the file' : section} must be a mapping`);
    const values = new Map<string, Node | null>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const full = section === '' ? key : `${section}.${key}`;
      if (key === undefined || !(knownKeys[section] ?? []).includes(key))
        fail(
          pair.key as Node,
          `unknown key ${full ?? '(not a scalar)'}; known: ${(knownKeys[section] ?? []).map((k) => (section === '' ? k : `${section}.${k}`)).join(', ')}`,
        );
      values.set(key!, pair.value as Node | null);
    }
    return values;
  };
  const top = mapping(root, '');
  const tasksNode = top.get('tasks');
  const tasks =
    tasksNode === undefined || tasksNode === null
      ? new Map<string, Node | null>()
      : mapping(tasksNode, 'tasks');
  const flag = (key: 'adhoc' | 'stacks' | 'allow_forced', fallback: boolean): boolean => {
    const node = tasks.get(key);
    if (node === undefined) return fallback;
    if (!isScalar(node) || typeof node.value !== 'boolean') fail(node, `tasks.${key} must be true or false`);
    return (node as { value: boolean }).value;
  };
  const adhoc = flag('adhoc', defaultAgentConfig.tasks.adhoc);
  const stacks = flag('stacks', defaultAgentConfig.tasks.stacks);
  const allowForced = flag('allow_forced', defaultAgentConfig.tasks.allowForced);
  let allow = defaultAgentConfig.tasks.allow;
  const allowNode = tasks.get('allow');
  if (allowNode !== undefined) {
    if (!isSeq(allowNode)) return fail(allowNode, 'tasks.allow must be a list of task names');
    const names = new Set<string>();
    for (const item of allowNode.items) {
      const name = isScalar(item) && typeof item.value === 'string' ? item.value : undefined;
      if (name === undefined) fail(item as Node, 'tasks.allow holds something other than a task name');
      if (!(builtinTaskNames as readonly string[]).includes(name!))
        fail(
          item as Node,
          `tasks.allow names ${JSON.stringify(name)}, which this agent does not know; it knows ${builtinTaskNames.join(', ')}`,
        );
      names.add(name!);
    }
    allow = names;
  }
  const traitsNode = top.get('traits');
  const traits =
    traitsNode === undefined || traitsNode === null || (isScalar(traitsNode) && traitsNode.value === null)
      ? new Map<string, Node | null>()
      : mapping(traitsNode, 'traits');
  return { file, tasks: { adhoc, allow, stacks, allowForced }, traits: traitSettings(traits, fail) };
}

function traitSettings(
  section: Map<string, Node | null>,
  fail: (node: Node | null | undefined, message: string) => never,
): TraitSettings {
  const metadataNode = section.get('cloud_metadata');
  let cloudMetadata = defaultTraitSettings.cloudMetadata;
  if (metadataNode !== undefined) {
    if (!isScalar(metadataNode) || typeof metadataNode.value !== 'boolean')
      fail(metadataNode, 'traits.cloud_metadata must be true or false');
    cloudMetadata = (metadataNode as { value: boolean }).value;
  }
  const pathsNode = section.get('cert_paths');
  const certPaths: string[] = [];
  if (pathsNode !== undefined && pathsNode !== null) {
    if (!isSeq(pathsNode))
      return fail(pathsNode, 'traits.cert_paths must be a list of certificate file paths');
    if (pathsNode.items.length > maxCertPaths)
      fail(pathsNode, `traits.cert_paths lists ${pathsNode.items.length} files; at most ${maxCertPaths}`);
    for (const item of pathsNode.items) {
      const path = isScalar(item) && typeof item.value === 'string' ? item.value : undefined;
      if (path === undefined || !path.startsWith('/') || path.length > 4096 || path.includes('\0'))
        fail(item as Node, 'traits.cert_paths holds something other than an absolute file path');
      certPaths.push(path);
    }
  }
  return { certPaths, cloudMetadata };
}
