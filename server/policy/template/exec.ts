import type { Operand, Pipe, RangeNode, TemplateNode } from './ast.ts';
import { BudgetExceeded, costOf } from './budget.ts';
import type { RenderBudget } from './budget.ts';
import { formatValue } from './format.ts';
import type { CallContext } from './funcs.ts';
import type { Locator } from './locate.ts';
import { closestName, listNames } from './locate.ts';
import type { VigoError } from '../../core/index.ts';
import { resolveTraitKey } from '../when/index.ts';
import { FuncError, Missing, isMap, isTrue, kindName, lookupKey } from './values.ts';
import type { TemplateMap } from './values.ts';

/**
 * Tree-walking evaluator with Go's semantics plus one deliberate strictness: a lookup that finds
 * nothing (an undefined var, a missing key) is an error where its value is used: printed, passed
 * to a function, ranged over, or read further. It is allowed, as empty/false, in the condition of
 * if / else if / with (anywhere in that pipeline), and as a direct argument of default, and, or, not.
 * Printing null is refused too: Go would write "<no value>" into the file.
 */

const noValue = Symbol('no piped value');
/** How a walk ended: normally, or at {{break}} / {{continue}} (the parser allows those only in range). */
type Flow = 'break' | 'continue' | undefined;

interface Slot {
  name: string;
  value: unknown;
}

export function execute(
  nodes: readonly TemplateNode[],
  root: TemplateMap,
  locator: Locator,
  budget: RenderBudget,
): string {
  const state = new Exec(root, locator, budget);
  try {
    state.walk(nodes, root);
  } catch (err) {
    // Over budget: located at the action, range or function that was running.
    if (err instanceof BudgetExceeded) throw locator.limitError(state.at, err.kind, err.message);
    throw err;
  }
  return state.out;
}

class Exec {
  out = '';
  /** Offset of the action being evaluated, where a budget overrun is reported. */
  at = 0;
  private readonly vars: Slot[];
  private readonly varsMap: unknown;
  private readonly traitsMap: unknown;

  constructor(
    private readonly root: TemplateMap,
    private readonly locator: Locator,
    private readonly budget: RenderBudget,
  ) {
    this.vars = [{ name: '$', value: root }];
    this.varsMap = lookupKey(root, 'Vars');
    this.traitsMap = lookupKey(root, 'Traits');
  }

  walk(nodes: readonly TemplateNode[], dot: unknown): Flow {
    for (const node of nodes) {
      let flow: Flow;
      switch (node.kind) {
        case 'text':
          this.budget.write(node.text.length);
          this.out += node.text;
          break;
        case 'action': {
          this.at = node.pos;
          const value = this.pipe(node.pipe, dot, false);
          if (node.pipe.decl.length === 0) {
            const text = this.printable(value, node.pipe);
            this.at = node.pos;
            this.budget.write(text.length);
            this.out += text;
          }
          break;
        }
        case 'if':
        case 'with': {
          this.at = node.pos;
          const mark = this.vars.length;
          const value = this.pipe(node.pipe, dot, true);
          if (isTrue(value)) flow = this.walk(node.list, node.kind === 'with' ? value : dot);
          else if (node.elseList) flow = this.walk(node.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(node, dot);
          break;
        case 'break':
        case 'continue':
          return node.kind;
      }
      if (flow !== undefined) return flow;
    }
    return undefined;
  }

  private fail(offset: number, reason: string): VigoError {
    return this.locator.error(offset, reason);
  }

  private refuse(missing: Missing): VigoError {
    return this.fail(missing.offset, missing.message());
  }

  private printable(value: unknown, pipe: Pipe): string {
    if (typeof value === 'string') return value;
    if (value instanceof Missing) throw this.refuse(value);
    if (value === null || value === undefined) {
      throw this.fail(
        pipe.pos,
        `{{ ${pipe.source} }} is null; give it a value or write {{ ${pipe.source} | default "…" }}`,
      );
    }
    return formatValue(value);
  }

  private range(node: RangeNode, dot: unknown): void {
    this.at = node.pos;
    const mark = this.vars.length;
    const { decl, isAssign } = node.pipe;
    const collection = this.pipe(node.pipe, dot, false, false);
    if (collection instanceof Missing) throw this.refuse(collection);
    if (!isAssign) for (const d of decl) this.vars.push({ name: d.name, value: collection });
    const setVar = (i: number, value: unknown): void => {
      const d = decl[i];
      if (d === undefined) return;
      if (isAssign) this.assign(d.name, value, d.pos);
      else (this.vars[mark + i] as Slot).value = value;
    };
    // With one variable it gets the element; with two, the index/key and then the element.
    const iteration = (key: unknown, element: unknown): Flow => {
      setVar(0, decl.length === 1 ? element : key);
      setVar(1, element);
      const inner = this.vars.length;
      const flow = this.walk(node.list, element);
      this.vars.length = inner;
      return flow;
    };
    const entries = this.rangeEntries(collection, node);
    // Sorting a map's keys costs its size even when the body breaks at once.
    if (isMap(collection)) this.budget.spend(entries.size);
    for (let i = 0; i < entries.size; i++) {
      this.at = node.pos;
      this.budget.iterate();
      const [key, element] = entries.entry(i);
      if (iteration(key, element) === 'break') break;
    }
    if (entries.size === 0 && node.elseList) this.walk(node.elseList, dot);
    this.vars.length = mark;
  }

  /** Indexed access to what range walks, so `range 1000000` does not build an array first. */
  private rangeEntries(
    collection: unknown,
    node: RangeNode,
  ): { size: number; entry(i: number): [unknown, unknown] } {
    if (Array.isArray(collection)) return { size: collection.length, entry: (i) => [i, collection[i]] };
    if (isMap(collection)) {
      const keys = Object.keys(collection).sort();
      return { size: keys.length, entry: (i) => [keys[i], collection[keys[i] ?? '']] };
    }
    if (collection === null || collection === undefined) return { size: 0, entry: () => [0, null] };
    if (typeof collection === 'number' && Number.isInteger(collection)) {
      if (node.pipe.decl.length > 1) {
        throw this.fail(node.pipe.pos, `can't use ${collection} to iterate over more than one variable`);
      }
      return { size: Math.max(0, collection), entry: (i) => [i, i] };
    }
    throw this.fail(
      node.pipe.pos,
      `range can't iterate over ${kindName(collection)} (${formatValue(collection)})`,
    );
  }

  private pipe(pipe: Pipe, dot: unknown, lenient: boolean, bind = true): unknown {
    let value: unknown = noValue;
    for (const cmd of pipe.cmds) {
      const first = cmd.args[0] as Operand;
      value =
        first.kind === 'function'
          ? this.call(first, cmd.args, dot, value, lenient)
          : this.operand(first, dot, lenient);
    }
    if (bind) {
      for (const d of pipe.decl) {
        if (pipe.isAssign) this.assign(d.name, value, d.pos);
        else this.vars.push({ name: d.name, value });
      }
    }
    return value;
  }

  private assign(name: string, value: unknown, pos: number): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const slot = this.vars[i] as Slot;
      if (slot.name === name) {
        slot.value = value;
        return;
      }
    }
    throw this.fail(pos, `undefined variable "${name}"`);
  }

  private variable(name: string, pos: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const slot = this.vars[i] as Slot;
      if (slot.name === name) return slot.value;
    }
    throw this.fail(pos, `undefined variable "${name}"`);
  }

  private operand(operand: Operand, dot: unknown, lenient: boolean): unknown {
    switch (operand.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return operand.value;
      case 'variable':
        return this.variable(operand.name, operand.pos);
      case 'pipe':
        return this.pipe(operand.pipe, dot, lenient);
      case 'function':
        return this.call(operand, [operand], dot, noValue, lenient);
      case 'field':
        return this.field(operand, dot, lenient);
    }
  }

  private call(
    fn: Operand & { kind: 'function' },
    args: readonly Operand[],
    dot: unknown,
    piped: unknown,
    lenient: boolean,
  ): unknown {
    const def = fn.def;
    if (def.mode === 'lazy') {
      const thunks = args.slice(1).map((arg) => () => this.operand(arg, dot, lenient));
      if (piped !== noValue) thunks.push(() => piped);
      return def.call(thunks);
    }
    const values = args.slice(1).map((arg) => this.operand(arg, dot, lenient));
    if (piped !== noValue) values.push(piped);
    let firstMissing: Missing | undefined;
    if (def.mode === 'strict') {
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        if (!(value instanceof Missing)) continue;
        if (!lenient) throw this.refuse(value);
        firstMissing ??= value;
        values[i] = null;
      }
    }
    const ctx: CallContext = { missing: (explain) => new Missing(fn.pos, explain) };
    this.at = fn.pos;
    let spent = 1;
    for (const value of values) spent += costOf(value);
    this.budget.spend(spent);
    let result: unknown;
    try {
      result = def.call(values, ctx);
    } catch (err) {
      if (err instanceof BudgetExceeded) {
        this.at = fn.pos;
        this.budget.exhausted = true;
      }
      if (!(err instanceof FuncError)) throw err;
      if (firstMissing) throw this.refuse(firstMissing);
      throw this.fail(fn.pos, `${def.name}: ${err.message}`);
    }
    this.at = fn.pos;
    this.budget.checkValue(result);
    this.budget.spend(costOf(result));
    return result;
  }

  private field(operand: Operand & { kind: 'field' }, dot: unknown, lenient: boolean): unknown {
    const base = operand.base;
    let receiver: unknown;
    let path: string;
    if (base.kind === 'dot') [receiver, path] = [dot, ''];
    else if (base.kind === 'variable') [receiver, path] = [this.variable(base.name, operand.pos), base.name];
    else [receiver, path] = [this.pipe(base.pipe, dot, lenient), `(${base.pipe.source})`];
    for (const name of operand.fields) {
      if (receiver instanceof Missing) return receiver;
      receiver = this.fieldOf(receiver, name, path, operand.pos);
      path += `.${name}`;
    }
    return receiver;
  }

  private fieldOf(receiver: unknown, name: string, path: string, pos: number): unknown {
    const shown = path || '.';
    if (receiver === null || receiver === undefined) {
      return new Missing(pos, () => `${shown} is null, so it has no field "${name}"`);
    }
    if (!isMap(receiver)) {
      const hint = Array.isArray(receiver) ? ` (to pick an item write {{ index ${shown} 0 }})` : '';
      throw this.fail(
        pos,
        `can't read field "${name}" of ${shown}: it is ${kindName(receiver)}, not a map${hint}`,
      );
    }
    // .Traits.processors finds the trait reported as cpu (policy/when/trait-aliases.ts).
    const key = receiver === this.traitsMap ? (resolveTraitKey(receiver, name) ?? name) : name;
    const value = lookupKey(receiver, key);
    if (value !== undefined) return value;
    return new Missing(pos, () => this.explainMissing(receiver, name, shown));
  }

  private explainMissing(receiver: TemplateMap, name: string, path: string): string {
    const keys = Object.keys(receiver);
    if (receiver === this.root) {
      if (name === 'Traits')
        return ".Traits is not available: this template was rendered without the envoy's traits";
      if (name === 'Item' || name === 'Each') return `.${name} is only set inside a foreach`;
      return `unknown field ".${name}": the template data has .Vars, .Traits, .Item and .Each`;
    }
    const suggestion = closestName(name, keys);
    const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
    if (receiver === this.varsMap) {
      const defined = keys.length === 0 ? 'no vars are defined' : `defined vars: ${listNames(keys)}`;
      return `var "${name}" is not defined${hint} (${defined})`;
    }
    const has = keys.length === 0 ? 'it is empty' : `it has: ${listNames(keys)}`;
    if (receiver === this.traitsMap) {
      const reported = keys.length === 0 ? 'this envoy reported no traits' : `traits: ${listNames(keys)}`;
      return `trait "${name}" is not reported by this envoy${hint} (${reported})`;
    }
    const traitPath = /^\$?\.Traits\.(.+)$/.exec(path)?.[1];
    if (traitPath !== undefined) {
      const contents = keys.length === 0 ? 'is empty' : `has: ${listNames(keys)}`;
      return `trait "${traitPath}.${name}" is not reported by this envoy${hint} (${path} ${contents})`;
    }
    return `key "${name}" is not set in ${path}${hint} (${has})`;
  }
}
