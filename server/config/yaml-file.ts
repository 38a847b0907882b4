/**
 * Reads server.yaml into parsed option values, collecting every problem with its file:line:col instead
 * of stopping at the first one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlias, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, YAMLError, YAMLMap } from 'yaml';
import { VigoError } from '../core/index.ts';
import { configKeys, configRegistry } from './registry.ts';
import type { ConfigKey } from './registry.ts';
import type { ConfigProblem } from './problems.ts';
import { closestName as closest } from '../core/index.ts';
import { describeRaw, InvalidValueError } from './values.ts';

export interface FileLayer {
  readonly values: ReadonlyMap<ConfigKey, unknown>;
  readonly problems: readonly ConfigProblem[];
}

const registeredKeys: ReadonlySet<string> = new Set(configKeys);
/** Every proper prefix of a registered key: the mappings server.yaml may contain ("server", "checkin"…). */
const sectionNames: ReadonlySet<string> = new Set(
  configKeys.flatMap((key) => {
    const parts = key.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

function isConfigKey(key: string): key is ConfigKey {
  return registeredKeys.has(key);
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new VigoError(
      'config.invalid',
      `cannot read the config file ${file} (${reason}); fix the path given by --config or VIGO_CONFIG_FILE`,
      { file },
      { cause: err },
    );
  }
}

export function readConfigFile(file: string): FileLayer {
  return parseConfigText(readText(file), file);
}

/** Parses server.yaml text; `file` names it in problems and anchors its relative paths. */
export function parseConfigText(text: string, file: string): FileLayer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const walker = new Walker(doc, lineCounter, file);
  const syntax = [...doc.errors, ...doc.warnings].map((e) => walker.syntaxProblem(e));
  if (syntax.length > 0) return { values: new Map(), problems: syntax };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { values: new Map(), problems: [] };
  if (isMap(root)) walker.walkMap(root, '');
  else {
    const raw = walker.toValue(root, undefined, '');
    if (raw !== undefined) {
      const message = `the top level must be a mapping of sections such as "server:" and "checkin:", got ${describeRaw(raw.value)}`;
      walker.add('config.wrong_type', root, undefined, { message });
    }
  }
  return { values: walker.values, problems: walker.problems };
}

/** Plainer words for the YAML errors an operator is likely to meet. */
const syntaxMessages: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'a tab is used for indentation; YAML indents with spaces only, replace the tab with spaces',
  MULTIPLE_DOCS:
    'server.yaml must hold one YAML document; remove the extra "---" separator and what follows it',
};

class Walker {
  readonly values = new Map<ConfigKey, unknown>();
  readonly problems: ConfigProblem[] = [];
  private readonly baseDir: string;

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly file: string,
  ) {
    this.baseDir = path.dirname(path.resolve(file));
  }

  syntaxProblem(error: YAMLError): ConfigProblem {
    const { line, col } = this.lineCounter.linePos(error.pos[0]);
    return {
      code: 'config.yaml',
      file: this.file,
      line,
      col,
      message: syntaxMessages[error.code] ?? `YAML: ${error.message}`,
    };
  }

  add(
    code: ConfigProblem['code'],
    node: Node | null,
    fallback: Node | undefined,
    fields: { key?: string; message: string },
  ): void {
    const offset = node?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    const { line, col } = this.lineCounter.linePos(offset);
    this.problems.push({ code, file: this.file, line, col, ...fields });
  }

  walkMap(map: YAMLMap, prefix: string): void {
    for (const pair of map.items) {
      const keyNode = isNode(pair.key) ? pair.key : null;
      const valueNode = isNode(pair.value) ? pair.value : null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        const shown = isScalar(keyNode) ? describeRaw(keyNode.value) : 'a list, mapping or alias';
        const message = `keys must be plain names, got ${shown}`;
        this.add('config.unknown_key', keyNode, map, { message });
        continue;
      }
      const key = prefix === '' ? keyNode.value : `${prefix}.${keyNode.value}`;
      if (isConfigKey(key) && !keyNode.value.includes('.')) this.walkLeaf(key, valueNode, keyNode);
      else if (sectionNames.has(key) && !keyNode.value.includes('.'))
        this.walkSection(key, valueNode, keyNode);
      else this.add('config.unknown_key', keyNode, map, { key, message: unknownKeyMessage(key) });
    }
  }

  /** The plain value of a node; undefined (with a problem recorded) when an alias inside cannot be expanded. */
  toValue(node: Node, fallback: Node | undefined, key: string): { value: unknown } | undefined {
    try {
      return { value: node.toJS(this.doc) };
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      const prefix = key === '' ? '' : `${key}: `;
      const message = `${prefix}YAML: ${err.message}`;
      this.add('config.yaml', node, fallback, key === '' ? { message } : { key, message });
      return undefined;
    }
  }

  private resolve(node: Node | null, keyNode: Node, key: string): Node | null | undefined {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (target !== undefined) return target;
    this.add('config.yaml', node, keyNode, {
      key,
      message: `${key}: the alias *${node.source} has no anchor`,
    });
    return undefined;
  }

  private walkSection(key: string, node: Node | null, keyNode: Node): void {
    const value = this.resolve(node, keyNode, key);
    if (value === undefined || value === null || (isScalar(value) && value.value === null)) return;
    if (isMap(value)) {
      this.walkMap(value, key);
      return;
    }
    const raw = this.toValue(value, keyNode, key);
    if (raw === undefined) return;
    const message = `${key}: expected a mapping of ${key}.* keys, got ${describeRaw(raw.value)}`;
    this.add('config.wrong_type', value, keyNode, { key, message });
  }

  private walkLeaf(key: ConfigKey, node: Node | null, keyNode: Node): void {
    const value = this.resolve(node, keyNode, key);
    if (value === undefined) return;
    const raw = value === null ? { value: null } : this.toValue(value, keyNode, key);
    if (raw === undefined) return;
    try {
      this.values.set(key, configRegistry[key].parse(raw.value, { origin: 'file', baseDir: this.baseDir }));
    } catch (err) {
      if (!(err instanceof InvalidValueError)) throw err;
      this.add('config.wrong_type', value, keyNode, { key, message: `${key}: ${err.message}` });
    }
  }
}

function unknownKeyMessage(key: string): string {
  if (isConfigKey(key) || sectionNames.has(key)) {
    return `unknown key "${key}": keys are not written dotted; nest them one level per line, e.g. "server:" then "  grpc_listen: ..."`;
  }
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  const suggestion =
    closest(key, [...registeredKeys, ...sectionNames]) ??
    configKeys.find((candidate) => candidate.endsWith(`.${leaf}`));
  const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
  return `unknown key "${key}"${hint} (vigosrv --help lists every key)`;
}
