import type { FuncDef } from './funcs.ts';

/** Parse tree of a template; positions are offsets into the template text. */

export type TemplateNode = TextNode | ActionNode | IfNode | WithNode | RangeNode | LoopJumpNode;

export interface TextNode {
  readonly kind: 'text';
  readonly text: string;
}

export interface ActionNode {
  readonly kind: 'action';
  readonly pos: number;
  readonly pipe: Pipe;
}

export interface IfNode {
  readonly kind: 'if';
  readonly pos: number;
  readonly pipe: Pipe;
  readonly list: TemplateNode[];
  readonly elseList: TemplateNode[] | undefined;
}

export interface WithNode {
  readonly kind: 'with';
  readonly pos: number;
  readonly pipe: Pipe;
  readonly list: TemplateNode[];
  readonly elseList: TemplateNode[] | undefined;
}

export interface RangeNode {
  readonly kind: 'range';
  readonly pos: number;
  readonly pipe: Pipe;
  readonly list: TemplateNode[];
  readonly elseList: TemplateNode[] | undefined;
}

export interface LoopJumpNode {
  readonly kind: 'break' | 'continue';
  readonly pos: number;
}

export interface Pipe {
  readonly pos: number;
  /** The source between the delimiters, for messages. */
  readonly source: string;
  readonly decl: readonly VariableDecl[];
  readonly isAssign: boolean;
  readonly cmds: readonly Command[];
}

export interface VariableDecl {
  readonly name: string;
  readonly pos: number;
}

export interface Command {
  readonly pos: number;
  readonly args: readonly Operand[];
}

export type Operand =
  | { readonly kind: 'dot'; readonly pos: number }
  | { readonly kind: 'variable'; readonly pos: number; readonly name: string }
  | {
      readonly kind: 'field';
      readonly pos: number;
      readonly base: FieldBase;
      readonly fields: readonly string[];
    }
  | { readonly kind: 'function'; readonly pos: number; readonly name: string; readonly def: FuncDef }
  | { readonly kind: 'literal'; readonly pos: number; readonly value: string | number | boolean | null }
  | { readonly kind: 'pipe'; readonly pos: number; readonly pipe: Pipe };

/** What a field chain starts from: dot (`.a.b`), a variable (`$x.a`) or a parenthesized pipeline. */
export type FieldBase =
  | { readonly kind: 'dot' }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'pipe'; readonly pipe: Pipe };
