/**
 * Budgets for the work a stacks tree can make the validator (and, for templates that read traits,
 * check-in) do. Each is measured where the work happens and has its own diagnostic code; docs/stacks.md
 * ("Limits") lists them. The values are far above what real stacks need: the 10,000-entry publish
 * benchmark stamps under 50,000 resources and its largest template renders in a few hundred steps.
 */
export const stackLimits = {
  /** Nesting of mappings and sequences in one YAML file, alias hops included (`yaml.too_deep`). */
  yamlMaxDepth: 64,
  /** Nodes one YAML file may produce through aliases and `<<` merge keys (`yaml.alias_limit`). */
  yamlMaxAliasNodes: 50_000,
  /** Items of one `foreach` list (`foreach.too_many_items`). */
  foreachMaxItems: 10_000,
  /** Resources one configcrate may stamp for one set of variables, all its loops together (`foreach.too_many_resources`). */
  foreachMaxResources: 50_000,
  /** Resources stamped in one whole validation, every configcrate instance together (`compile.too_many_resources`). */
  compileMaxResources: 250_000,
  /** Compiled size of one match entry in characters of JSON: its bundle travels in one 4 MiB gRPC message (`entry.too_large`). */
  entryMaxChars: 4 * 1024 * 1024,
} as const;

/**
 * What rendering the templates of one resource (at publish) or of one bundle (at check-in, with the
 * envoy's traits) may cost. A budget is shared by every template of that resource or bundle.
 */
export const templateLimits = {
  /** `range` iterations (`template.iteration_limit`). */
  maxIterations: 100_000,
  /** Characters of output, and the longest string any one function may return (`template.output_limit`). */
  maxOutputChars: 4 * 1024 * 1024,
  /**
   * Characters and items that function calls and `range` set-ups read and write (`template.work_limit`):
   * bounds loops whose bodies process large values without printing them.
   */
  maxWork: 16 * 1024 * 1024,
} as const;

export type TemplateLimits = { readonly [K in keyof typeof templateLimits]: number };
