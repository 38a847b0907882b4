/** Cross-file checks that need no variable values: names exist, includes are one level, no crate cycles. */
import { didYouMean } from './diagnostics.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { findCycles, formatCycle } from './dag.ts';
import { compileGlob, isGlob } from './host-matcher.ts';
import { inheritsFrom } from './layout.ts';
import type { LeafEntry, Ref, Stacks } from './model.ts';
import { valueProblem } from './parse-tasks.ts';
import { hasRefs } from './workflow-refs.ts';

class Names {
  constructor(
    private readonly stacks: Stacks,
    private readonly sink: DiagnosticSink,
  ) {}

  crate(r: Ref, where: string): void {
    if (this.stacks.crates.has(r.text) || this.stacks.brokenCrateNames.has(r.text)) return;
    this.sink.error(
      'ref.unknown',
      r.at,
      `${where} names configcrate "${r.text}", which does not exist`,
      didYouMean(r.text, this.stacks.crates.keys()) ||
        'configcrates are defined by name: in files under configcrates/',
    );
  }

  role(r: Ref, where: string): void {
    if (this.stacks.roles.has(r.text)) return;
    this.sink.error(
      'ref.unknown',
      r.at,
      `${where} names role "${r.text}", which does not exist`,
      didYouMean(r.text, this.stacks.roles.keys()) ||
        'roles are defined in roles.vgo or in files under roles/',
    );
  }
}

function checkRoles(stacks: Stacks, names: Names, sink: DiagnosticSink): void {
  for (const r of stacks.roles.values()) {
    const where = `role ${r.name}`;
    r.configcrates.forEach((c) => names.crate(c, where));
    r.cases.forEach((c) => c.crates.forEach((x) => names.crate(x, `${where} (case ${c.key})`)));
    for (const inc of r.includes) {
      const target = stacks.roles.get(inc.text);
      if (!target) names.role(inc, where);
      else if (target.includes.length > 0) {
        sink.error(
          'role.nested_include',
          inc.at,
          `role ${r.name} includes role ${target.name}, which itself includes ${target.includes.map((i) => i.text).join(', ')}`,
          'includes: go one level deep only; list the configcrates of the inner roles directly',
        );
      }
    }
  }
}

export function checkReferences(stacks: Stacks, sink: DiagnosticSink): void {
  const names = new Names(stacks, sink);
  checkRoles(stacks, names, sink);
  for (const c of stacks.crates.values())
    c.dependsOn.forEach((d) => names.crate(d, `configcrate ${c.name} depends_on`));
  for (const c of stacks.commons) {
    c.configcrates.forEach((x) => names.crate(x, c.file));
    c.roles.forEach((x) => names.role(x, c.file));
  }
  for (const e of stacks.envFiles.flatMap((f) => [...f.envs.values()])) {
    e.configcrates.forEach((x) => names.crate(x, `environment ${e.name}`));
    e.exclude.forEach((x) => names.crate(x, `environment ${e.name} exclude_configcrates`));
  }
  for (const e of stacks.entries) {
    const where = `match block at ${e.file}:${e.at.line}`;
    e.configcrates.forEach((x) => names.crate(x, where));
    e.roles.forEach((x) => names.role(x, where));
    checkEnvironment(e, stacks, sink);
  }
  for (const t of stacks.tasks) t.roleRefs.forEach((r) => names.role(r, `task ${t.name}`));
  checkWorkflowTasks(stacks, sink);
  checkCrateCycles(stacks, sink);
  checkPatterns(stacks.entries, sink);
}

function checkEnvironment(e: LeafEntry, stacks: Stacks, sink: DiagnosticSink): void {
  if (!e.environment) return;
  const chain = stacks.envFiles.filter((f) => inheritsFrom(e.dir, f.dir));
  // With no environments.vgo on the path the environment is only a label (as in Vigo's docker example).
  if (chain.length === 0 || chain.some((f) => f.envs.has(e.environment!.text))) return;
  const known = new Set(chain.flatMap((f) => [...f.envs.keys()]));
  sink.warning(
    'ref.unknown_environment',
    e.environment.at,
    `environment "${e.environment.text}" is not defined in ${chain.map((f) => f.file).join(', ')}`,
    didYouMean(e.environment.text, known) || `defined environments: ${[...known].join(', ')}`,
  );
}

function checkCrateCycles(stacks: Stacks, sink: DiagnosticSink): void {
  const names = [...stacks.crates.keys()].sort();
  const index = new Map(names.map((n, i) => [n, i]));
  const edges = names.map((n) =>
    stacks.crates
      .get(n)!
      .dependsOn.map((d) => index.get(d.text))
      .filter((i): i is number => i !== undefined),
  );
  for (const cycle of findCycles(names.length, edges)) {
    for (const i of cycle) stacks.cyclicCrates.add(names[i]!);
    const first = stacks.crates.get(names[cycle[0]!]!)!;
    const at = first.dependsOn.find((d) => d.text === names[cycle[1] ?? cycle[0]!])?.at ?? first.at;
    sink.error(
      'dag.cycle',
      at,
      `configcrate dependency cycle: ${formatCycle(cycle.map((i) => names[i]!))} (a → b: a depends_on b)`,
      'configcrate depends_on must not loop; remove one of these depends_on entries',
    );
  }
}

function checkPatterns(entries: LeafEntry[], sink: DiagnosticSink): void {
  const seen = new Map<string, LeafEntry>();
  let catchAll: LeafEntry | undefined;
  for (const e of entries) {
    for (const p of e.patterns) {
      if (isGlob(p.text)) {
        const re = compileGlob(p.text);
        if (typeof re === 'string')
          sink.error(
            'match.bad_pattern',
            p.at,
            `match pattern ${JSON.stringify(p.text)} is not a valid glob: ${re}`,
            'globs use *, ? and [abc]',
          );
      }
    }
    const lower = e.patterns.map((p) => p.text.toLowerCase());
    const shadow = catchAll ?? (lower.every((p) => seen.has(p)) ? seen.get(lower[0]!) : undefined);
    if (shadow && e.patterns.length > 0) {
      sink.warning(
        'match.shadowed',
        e.at,
        `this match block can never match: the block at ${shadow.file}:${shadow.at.line} comes first and matches the same hosts`,
        'first match wins; move this block earlier or remove it (see docs/stacks.md for the order files are read in)',
      );
    }
    for (const p of lower) if (!seen.has(p)) seen.set(p, e);
    if (!catchAll && lower.some((p) => /^\*+$/.test(p))) catchAll = e;
  }
}

/**
 * A workflow's task steps name tasks of tasks.vgo (or the agent's built-in `vigo.*` tasks), with
 * parameters the task takes; literal values must fit their types already (references are checked when
 * the step starts, once they have a value).
 */
function checkWorkflowTasks(stacks: Stacks, sink: DiagnosticSink): void {
  for (const w of stacks.workflows)
    for (const ref of w.taskRefs) {
      if (ref.task.startsWith('vigo.')) continue;
      const task = stacks.tasks.find((t) => t.name === ref.task);
      if (task === undefined) {
        sink.error(
          'workflow.task_unknown',
          ref.at,
          `workflow ${w.name}: step ${ref.step} runs task ${ref.task}, which tasks.vgo does not define`,
          didYouMean(
            ref.task,
            stacks.tasks.map((t) => t.name),
          ),
        );
        continue;
      }
      const step = w.workflow.steps.find((s) => s.id === ref.step);
      for (const [key, value] of Object.entries(step?.params ?? {})) {
        const spec = task.task.params[key];
        if (spec === undefined) {
          sink.error(
            'workflow.param_invalid',
            ref.at,
            `workflow ${w.name}: step ${ref.step}: task ${ref.task} has no parameter ${key}`,
          );
          continue;
        }
        if (typeof value === 'string' && hasRefs(value)) continue;
        const problem = valueProblem(spec, value);
        if (problem !== undefined)
          sink.error(
            'workflow.param_invalid',
            ref.at,
            `workflow ${w.name}: step ${ref.step}: parameter ${key} ${problem}`,
          );
      }
    }
}
