/** Reads a stacks dir into the model, reporting YAML and structure problems of every file. */
import path from 'node:path';
import { StacksTree } from './confine.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { compileField } from './engines.ts';
import { discoverStacks } from './layout.ts';
import type { StackFile } from './layout.ts';
import { sha256Hex } from './canonical.ts';
import { sourceState } from './carry.ts';
import type { CrateCarry } from './carry.ts';
import type { CrateDef, RoleDef, Stacks } from './model.ts';
import { parseCrate } from './parse-crate.ts';
import type { SourceRead, SourceReader } from './parse-resource.ts';
import {
  parseCommonFile,
  parseEnvironmentsFile,
  parseLeafFile,
  parseRoleFile,
  parseRolesFile,
} from './parse-hosts.ts';
import { parseClaimsFile } from './parse-compliance.ts';
import { parseWaiversFile } from './parse-waivers.ts';
import { parseQueriesFile } from './parse-queries.ts';
import { parseTasksFile } from './parse-tasks.ts';
import { parseWorkflowsFile } from './parse-workflows.ts';
import { checkSecretsIn, checkSecretsInText } from './secrets.ts';
import type { SecretChecker } from './secrets.ts';
import { loadYaml, maxYamlBytes } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';
import { addNamedDefs } from './named-defs.ts';

const maxTemplateBytes = 4 * 1024 * 1024;

export function emptyStacks(root: string): Stacks {
  return {
    root,
    crates: new Map(),
    roles: new Map(),
    commons: [],
    envFiles: [],
    entries: [],
    claimsFiles: [],
    waivers: [],
    tasks: [],
    workflows: [],
    queries: [],
    brokenCrateNames: new Set(),
    cyclicCrates: new Set(),
    urls: [],
  };
}

export function loadStacks(
  root: string,
  sink: DiagnosticSink,
  map: SourceMap,
  secrets: SecretChecker,
  dataDir?: string,
  carry?: CrateCarry,
): Stacks {
  const stacks = emptyStacks(root);
  const tree = StacksTree.open(root, dataDir);
  if (!tree) {
    sink.error(
      'layout.missing',
      { file: '', line: 1, col: 1 },
      `stacks directory ${root} does not exist or is not a directory`,
    );
    return stacks;
  }
  if (tree.isDataDir(tree.root)) {
    sink.error(
      'layout.missing',
      { file: '', line: 1, col: 1 },
      `stacks directory ${root} is the server's data directory, which is never read as stacks`,
      'keep the stacks in their own directory (server.stacks_dir)',
    );
    return stacks;
  }
  const files = discoverStacks(tree, sink);
  const readSource = sourceReader(tree, sink, secrets);
  const ctx: LoadCtx = { sink, map, tree, ...(carry === undefined ? {} : { carry }) };
  for (const f of files) loadFile(f, stacks, ctx, readSource, secrets);
  carry?.end();
  return stacks;
}

function sourceReader(tree: StacksTree, sink: DiagnosticSink, secrets: SecretChecker): SourceReader {
  const cache = new Map<string, SourceRead>();
  return (rel) => {
    const known = cache.get(rel);
    if (known) return known;
    const read = tree.read(rel, maxTemplateBytes);
    let loaded: SourceRead;
    if (read.kind === 'ok') {
      checkSecretsInText(read.text, rel, secrets);
      const tpl = compileField(read.text, { file: rel, line: 1, col: 1 }, (d) => sink.add(d));
      loaded = { kind: 'ok', text: read.text, tpl };
    } else if (read.kind === 'too_large') {
      sink.error(
        'source.too_large',
        { file: rel, line: 1, col: 1 },
        `template is larger than ${maxTemplateBytes} bytes`,
      );
      loaded = { kind: 'missing' };
    } else loaded = read;
    cache.set(rel, loaded);
    return loaded;
  };
}

type LoadCtx = { sink: DiagnosticSink; map: SourceMap; tree: StacksTree; carry?: CrateCarry };

function warnIgnored(f: StackFile, sink: DiagnosticSink): void {
  const legacy = f.kind === 'legacy-vars';
  sink.warning(
    'layout.unsupported',
    { file: f.rel, line: 1, col: 1 },
    `${f.rel} is ignored: ${legacy ? 'the legacy vars/ directory is not read' : 'usercrates are not supported by this server'}`,
    legacy ? 'move these vars into common.vgo, a match block or environments.vgo' : '',
  );
}

/** The file's text, or undefined (reported) when it cannot be read. */
function readText(f: StackFile, stacks: Stacks, ctx: LoadCtx): string | undefined {
  const read = ctx.tree.readWalked(f.rel, maxYamlBytes);
  if (read.kind === 'too_large') {
    ctx.sink.error(
      'yaml.too_large',
      { file: f.rel, line: 1, col: 1 },
      `file is larger than ${maxYamlBytes} bytes`,
    );
  } else if (read.kind !== 'ok') {
    const why = read.kind === 'refused' ? read.reason : 'it is gone or not a regular file';
    ctx.sink.error('layout.unreadable', { file: f.rel, line: 1, col: 1 }, `cannot read file: ${why}`);
  }
  if (read.kind === 'ok') return read.text;
  if (f.kind === 'configcrate')
    stacks.brokenCrateNames.add(path.posix.basename(f.rel, path.posix.extname(f.rel)));
  return undefined;
}

function parseYaml(f: StackFile, text: string, stacks: Stacks, ctx: LoadCtx): { value: unknown } | undefined {
  const loaded = loadYaml(f.rel, text, ctx.sink, ctx.map);
  if (!loaded && f.kind === 'configcrate')
    stacks.brokenCrateNames.add(path.posix.basename(f.rel, path.posix.extname(f.rel)));
  return loaded;
}

function loadFile(
  f: StackFile,
  stacks: Stacks,
  ctx: LoadCtx,
  readSource: SourceReader,
  secrets: SecretChecker,
): void {
  if (f.kind === 'template') return;
  if (f.kind === 'usercrate' || f.kind === 'legacy-vars') return warnIgnored(f, ctx.sink);
  const text = readText(f, stacks, ctx);
  if (text === undefined) return;
  if (f.kind === 'configcrate') return loadCrate(f, text, stacks, ctx, readSource, secrets);
  const loaded = parseYaml(f, text, stacks, ctx);
  if (!loaded) return;
  const value = loaded.value;
  if (
    f.kind !== 'claims' &&
    f.kind !== 'waivers' &&
    f.kind !== 'roles' &&
    f.kind !== 'role' &&
    f.kind !== 'tasks' &&
    f.kind !== 'workflows'
  ) {
    checkSecretsIn(value, ctx.map, secrets);
  }
  switch (f.kind) {
    case 'roles':
      return addRoles(parseRolesFile(f.rel, value, ctx), stacks, ctx.sink);
    case 'role':
      return addRoles(parseRoleFile(f.rel, value, ctx), stacks, ctx.sink);
    case 'common': {
      const c = parseCommonFile(f.rel, f.dir, value, ctx);
      if (c) stacks.commons.push(c);
      return;
    }
    case 'environments': {
      const e = parseEnvironmentsFile(f.rel, f.dir, value, ctx);
      if (e) stacks.envFiles.push(e);
      return;
    }
    case 'claims': {
      const claims = parseClaimsFile(f.rel, f.dir, value, ctx);
      if (claims) stacks.claimsFiles.push(claims);
      return;
    }
    case 'waivers':
      stacks.waivers.push(...parseWaiversFile(f.rel, value, ctx));
      return;
    case 'leaf':
      stacks.entries.push(...parseLeafFile(f.rel, f.dir, value, ctx));
      return;
    case 'tasks':
      return addNamedDefs('task', parseTasksFile(f.rel, value, ctx), stacks.tasks, ctx.sink);
    case 'workflows':
      return addNamedDefs('workflow', parseWorkflowsFile(f.rel, value, ctx), stacks.workflows, ctx.sink);
    case 'queries':
      return addNamedDefs('query', parseQueriesFile(f.rel, value, ctx), stacks.queries, ctx.sink);
  }
}

/** A configcrate file: the definition carried from the last validation, or parsed now. */
function loadCrate(
  f: StackFile,
  text: string,
  stacks: Stacks,
  ctx: LoadCtx,
  readSource: SourceReader,
  secrets: SecretChecker,
): void {
  const carried = ctx.carry?.take(f.rel, text, readSource);
  if (carried !== undefined) {
    stacks.urls.push(...carried.urls);
    return addCrate(carried.def, stacks, ctx.sink);
  }
  const reported = ctx.sink.count;
  const urlsBefore = stacks.urls.length;
  const loaded = parseYaml(f, text, stacks, ctx);
  if (!loaded) return;
  let secretRefs = 0;
  checkSecretsIn(loaded.value, ctx.map, {
    sink: secrets.sink,
    exists: (p) => {
      secretRefs++;
      return secrets.exists(p);
    },
  });
  // Everything the definition is built from: its file and each source: file it reads, as read.
  const sources: string[] = [];
  const recording: SourceReader = (rel) => {
    const read = readSource(rel);
    sources.push(rel, sourceState(read));
    return read;
  };
  const def = parseCrate(f.rel, loaded.value, { ...ctx, readSource: recording, urls: stacks.urls });
  if (!def) {
    stacks.brokenCrateNames.add(path.posix.basename(f.rel, path.posix.extname(f.rel)));
    return;
  }
  def.fingerprint = sha256Hex([f.rel, text, ...sources].map((s) => `${s.length}:${s}`).join(''));
  // Secret references are checked against the provider on every validation: never carried.
  if (ctx.sink.count === reported && secretRefs === 0)
    ctx.carry?.keep(f.rel, { text, sources, urls: stacks.urls.slice(urlsBefore), def });
  addCrate(def, stacks, ctx.sink);
}

function addCrate(crate: CrateDef, stacks: Stacks, sink: DiagnosticSink): void {
  const earlier = stacks.crates.get(crate.name);
  if (earlier) {
    sink.error(
      'configcrate.duplicate',
      crate.at,
      `configcrate "${crate.name}" is defined twice: here and in ${earlier.file}:${earlier.at.line}`,
      'configcrate names are global; rename one of them',
    );
    return;
  }
  stacks.crates.set(crate.name, crate);
}

function addRoles(roles: RoleDef[], stacks: Stacks, sink: DiagnosticSink): void {
  for (const r of roles) {
    const earlier = stacks.roles.get(r.name);
    if (earlier) {
      sink.error(
        'role.duplicate',
        r.at,
        `role "${r.name}" is defined twice: here and in ${earlier.file}:${earlier.at.line}`,
        'role names are global; rename or merge them',
      );
      continue;
    }
    stacks.roles.set(r.name, r);
  }
}
