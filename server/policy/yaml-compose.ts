/**
 * The general YAML path in steps the validator can bound: syntax tree → depth check → composed
 * document, and every alias resolved once up front (the yaml package's `Alias.resolve` walks the whole
 * document for each alias, which made a few lines of merge keys cost seconds).
 */
import { Composer, YAMLParseError, isAlias, visit } from 'yaml';
import type { Alias, CST, Document, Node as YamlNode } from 'yaml';

/** Offset of the first collection nested deeper than `maxDepth`, walking the syntax tree without recursion. */
export function tooDeepOffset(tokens: readonly CST.Token[], maxDepth: number): number | undefined {
  const stack: [CST.Token, number][] = [];
  for (const t of tokens) if (t.type === 'document' && t.value) stack.push([t.value, 1]);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [token, depth] = next;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection')
      continue;
    if (depth > maxDepth) return token.offset;
    for (const item of token.items as { key?: CST.Token | null; value?: CST.Token }[]) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

/** What `parseDocument` does with the tokens: one document, a second one is an error. */
export function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({ merge: true, uniqueKeys: true });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'Source contains multiple documents',
        ),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document, if only an empty one.
  return doc!;
}

/** Each alias's node: the last node anchored with its name before it, in document order (YAML's rule). */
export function aliasTargets(doc: Document): Map<Alias, YamlNode> {
  const targets = new Map<Alias, YamlNode>();
  const anchors = new Map<string, YamlNode>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
}
