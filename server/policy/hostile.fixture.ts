/**
 * Stacks that attack the validator, shared by the limit tests, the validator-pool tests and the hostile-stack
 * tests against a real server: a small text that expands to astronomically much, or that stays within every
 * limit yet needs more memory than the validator has.
 */

/** 40 levels of `<<` merges, each doubling: 2^40 nodes if expanded naively, from ~2 KB of text. */
export function mergeBombYaml(): string {
  const lines = ['vars:', '  a0: &a0 {k0: v}'];
  for (let i = 1; i < 40; i++)
    lines.push(
      `  a${i}: &a${i}`,
      `    <<: [*a${i - 1}]`,
      `    k${i}: x`,
      `    m${i}:`,
      `      <<: *a${i - 1}`,
    );
  return lines.join('\n') + '\n';
}

/**
 * Within every stack limit (each configcrate renders just under what one entry may carry, each entry uses
 * one), from a few kilobytes of YAML per configcrate: `configcrates` × 3.8 MB of rendered text.
 */
export function heapHungryStack(configcrates: number): { path: string; content: string }[] {
  const files: { path: string; content: string }[] = [];
  const items = Array.from({ length: 38 }, (_, i) => i).join(', ');
  const lines = ['envoys:'];
  for (let c = 0; c < configcrates; c++) {
    files.push({
      path: `configcrates/hungry${c}.vgo`,
      content:
        `name: hungry${c}\nforeach: [${items}]\nresources:\n  - name: "f{{ .Item }}"\n    type: file\n` +
        `    target_path: "/srv/${c}/{{ .Item }}"\n    content: '{{ printf "%100000s" "x" }}'\n`,
    });
    lines.push(`  - match: "hungry-${c}"`, `    configcrates: [hungry${c}]`);
  }
  files.push({ path: 'hungry/hosts.vgo', content: lines.join('\n') + '\n' });
  return files;
}
