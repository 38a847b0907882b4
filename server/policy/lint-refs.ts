/**
 * References of configcrates that no entry applies cannot be linked against an entry; this checks
 * them against every resource name the stacks define literally, and stays silent where names depend
 * on variables (foreach, templated names or targets), because those are only known per entry.
 */
import { didYouMean } from './diagnostics.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { ExternalRef } from './instance.ts';
import type { CrateDef, Stacks } from './model.ts';
import { deriveName, targetFieldOf } from './names.ts';

interface CrateNames {
  names: Set<string>;
  /** Some names are only known once variables are: nothing can be said about missing ones. */
  dynamic: boolean;
}

function namesOf(crate: CrateDef): CrateNames {
  const names = new Set<string>();
  let dynamic = crate.foreach !== undefined;
  for (const r of crate.resources) {
    if (r.foreach) dynamic = true;
    if (r.name) {
      if (r.name.tpl) dynamic = true;
      else names.add(r.name.text);
      continue;
    }
    const field = targetFieldOf(r.type, r.params);
    if (r.templates.some((t) => t.path[1] === field)) dynamic = true;
    const derived = deriveName(r.type, r.params);
    if (derived !== undefined) names.add(derived);
  }
  return { names, dynamic };
}

export class StaticNames {
  private readonly byCrate = new Map<string, CrateNames>();

  constructor(private readonly stacks: Stacks) {
    for (const c of stacks.crates.values()) this.byCrate.set(c.name, namesOf(c));
  }

  check(crate: string, refs: ExternalRef[], sink: DiagnosticSink): void {
    for (const ref of refs) {
      const slash = ref.text.indexOf('/');
      const target = slash > 0 ? this.byCrate.get(ref.text.slice(0, slash)) : undefined;
      const known = target
        ? target.dynamic || target.names.has(ref.text.slice(slash + 1))
        : [...this.byCrate.values()].some((c) => c.dynamic || c.names.has(ref.text)) ||
          this.stacks.brokenCrateNames.size > 0;
      if (known) continue;
      const all = [...this.byCrate.values()].flatMap((c) => [...c.names]);
      sink.error(
        'ref.unknown',
        ref.at,
        `${ref.kind} ${JSON.stringify(ref.text)} does not name a resource in configcrate ${crate} or in any other configcrate`,
        didYouMean(target ? ref.text.slice(slash + 1) : ref.text, all) ||
          'use the name: of a resource in this configcrate, or <configcrate>/<name>',
      );
    }
  }
}
