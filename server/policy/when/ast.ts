import type { Builtin } from './builtins.ts';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = string | number | boolean;

/** Expression tree; `pos` is the offset of the node's first token in the expression text. */
export type WhenNode =
  | { readonly k: 'lit'; readonly pos: number; readonly value: Literal }
  | { readonly k: 'var'; readonly pos: number; readonly path: readonly string[] }
  | { readonly k: 'trait'; readonly pos: number; readonly path: readonly string[] }
  | { readonly k: 'not'; readonly pos: number; readonly arg: WhenNode }
  | { readonly k: 'and' | 'or'; readonly pos: number; readonly left: WhenNode; readonly right: WhenNode }
  | {
      readonly k: 'cmp';
      readonly pos: number;
      readonly op: CompareOp;
      readonly left: WhenNode;
      readonly right: WhenNode;
    }
  | {
      readonly k: 'call';
      readonly pos: number;
      readonly builtin: Builtin;
      readonly args: readonly WhenNode[];
    };
