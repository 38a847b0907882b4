import type { Command, Operand, Pipe, TemplateNode } from './ast.ts';
import { TemplateFault, closestName } from './locate.ts';

/**
 * Static dependency analysis: which vars a template reads and whether it reads traits, so the
 * compiler can key caches on exactly what the output depends on. It tracks where values come from
 * (the data root, the whole .Vars map, or something else) through dot, variables and the
 * pass-through functions; any use of the root or of .Vars as a whole counts as reading everything.
 */

export interface Analysis {
  usesTraits: boolean;
  readsAllVars: boolean;
  varsUsed: Set<string>;
}

/** Bit flags: what a value may be. */
const none = 0;
const rootData = 1;
const wholeVars = 2;
const passThrough = new Set(['default', 'and', 'or']);
const rootFields = ['Vars', 'Traits', 'Item', 'Each'];

export function analyze(nodes: readonly TemplateNode[]): Analysis {
  const analyzer = new Analyzer();
  analyzer.walk(nodes, rootData);
  return analyzer.result;
}

class Analyzer {
  readonly result: Analysis = { usesTraits: false, readsAllVars: false, varsUsed: new Set() };
  private readonly scope: Array<{ name: string; origin: number }> = [{ name: '$', origin: rootData }];

  walk(nodes: readonly TemplateNode[], dot: number): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
        case 'break':
        case 'continue':
          break;
        case 'action': {
          const origin = this.pipe(node.pipe, dot);
          if (node.pipe.decl.length === 0) this.consume(origin);
          break;
        }
        case 'if':
        case 'with':
        case 'range': {
          const mark = this.scope.length;
          const origin = this.pipe(node.pipe, dot, node.kind !== 'range');
          this.consume(origin);
          for (const decl of node.kind === 'range' ? node.pipe.decl : [])
            this.scope.push({ name: decl.name, origin: none });
          this.walk(node.list, node.kind === 'with' ? origin : node.kind === 'range' ? none : dot);
          if (node.elseList) this.walk(node.elseList, dot);
          this.scope.length = mark;
          break;
        }
      }
    }
  }

  private consume(origin: number): void {
    if (origin & rootData) {
      this.result.usesTraits = true;
      this.result.readsAllVars = true;
    }
    if (origin & wholeVars) this.result.readsAllVars = true;
  }

  private pipe(pipe: Pipe, dot: number, bind = true): number {
    let origin: number | undefined;
    for (const cmd of pipe.cmds) origin = this.command(cmd, dot, origin);
    const result = origin ?? none;
    if (bind) {
      for (const decl of pipe.decl) {
        const slot = pipe.isAssign ? this.scope.findLast((s) => s.name === decl.name) : undefined;
        if (slot) slot.origin |= result;
        else this.scope.push({ name: decl.name, origin: result });
      }
    }
    return result;
  }

  private command(cmd: Command, dot: number, piped: number | undefined): number {
    const [first, ...rest] = cmd.args;
    if (first === undefined) return none;
    if (first.kind !== 'function') return this.operand(first, dot);
    const origins = rest.map((arg) => this.operand(arg, dot));
    if (piped !== undefined) origins.push(piped);
    if (passThrough.has(first.name)) return origins.reduce((all, o) => all | o, none);
    if (first.name === 'index' && piped === undefined) {
      const keys = rest
        .slice(1)
        .map((arg) => (arg.kind === 'literal' && typeof arg.value === 'string' ? arg.value : undefined));
      const container = origins[0] ?? none;
      const literalKeys = keys.filter((key) => key !== undefined);
      if (keys.length > 0 && literalKeys.length === keys.length)
        return this.fields(container, literalKeys, first.pos);
    }
    for (const origin of origins) this.consume(origin);
    return none;
  }

  private operand(operand: Operand, dot: number): number {
    switch (operand.kind) {
      case 'dot':
        return dot;
      case 'variable':
        return this.scope.findLast((s) => s.name === operand.name)?.origin ?? none;
      case 'pipe':
        return this.pipe(operand.pipe, dot);
      case 'literal':
      case 'function':
        return none;
      case 'field': {
        const base = operand.base;
        const origin =
          base.kind === 'dot'
            ? dot
            : base.kind === 'variable'
              ? (this.scope.findLast((s) => s.name === base.name)?.origin ?? none)
              : this.pipe(base.pipe, dot);
        return this.fields(origin, operand.fields, operand.pos);
      }
    }
  }

  private fields(origin: number, fields: readonly string[], pos: number): number {
    const [first, second] = fields;
    if (first === undefined) return origin;
    let result = none;
    if (origin & rootData) {
      if (first === 'Vars') {
        if (second === undefined) result |= wholeVars;
        else this.result.varsUsed.add(second);
      } else if (first === 'Traits') this.result.usesTraits = true;
      else if (origin === rootData && !rootFields.includes(first)) {
        const suggestion = closestName(first, rootFields);
        const hint = suggestion ? `did you mean ".${suggestion}"? ` : '';
        throw new TemplateFault(
          `unknown field ".${first}": ${hint}the template data has .Vars, .Traits, .Item and .Each`,
          pos,
        );
      }
    }
    if (origin & wholeVars) this.result.varsUsed.add(first);
    return result;
  }
}
