/**
 * Publish-path benchmark: generates a stack of 1,000 configcrates (100 roles of 10) and 10,000
 * match entries (half literal hostnames, half globs, spread over 10 site directories), validates and
 * compiles it, then resolves 100,000 hostnames to entries. Prints figures only.
 *
 *   node --import tsx bench/publish.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateStacks } from '../server/policy/index.ts';

const crateCount = 1000;
const roleSize = 10;
const entryCount = 10_000;
const siteCount = 10;
const lookupCount = 100_000;

function pad(n: number, width = 4): string {
  return String(n).padStart(width, '0');
}

function crateFile(i: number): string {
  // The first crate of each role reads a per-host variable, so it compiles once per entry.
  const perHost = i % roleSize === 0;
  const dependsOn = i % roleSize === 0 ? '' : `depends_on: [svc-${pad(i - 1)}]\n`;
  return `name: svc-${pad(i)}
${dependsOn}vars:
  svc_port: "${8000 + i}"
  svc_user: svc${i}
resources:
  - name: pkg
    type: package
    package: svc${i}
  - name: conf
    type: file
    target_path: /etc/svc${i}/svc.conf
    owner: root
    mode: "0640"
    content: |
      port = {{ .Vars.svc_port }}
      env = {{ .Vars.env_name }}
      ${perHost ? 'tag = {{ .Vars.host_tag }}' : 'user = {{ .Vars.svc_user }}'}
    depends_on: [pkg]
    notify: [svc]
  - name: data
    type: directory
    target_path: /var/lib/svc${i}
    mode: "0750"
  - name: svc
    type: service
    service: svc${i}
    state: running
    enabled: true
    when: "os_family('debian') || os_family('rhel')"
    depends_on: [data]
`;
}

function generate(root: string): void {
  fs.mkdirSync(path.join(root, 'configcrates'), { recursive: true });
  for (let i = 0; i < crateCount; i++)
    fs.writeFileSync(path.join(root, 'configcrates', `svc-${pad(i)}.vgo`), crateFile(i));
  const roles = ['roles:'];
  for (let r = 0; r < crateCount / roleSize; r++) {
    const crates = Array.from({ length: roleSize }, (_, k) => `svc-${pad(r * roleSize + k)}`);
    roles.push(`  role-${pad(r, 3)}:`, `    configcrates: [${crates.join(', ')}]`);
  }
  fs.writeFileSync(path.join(root, 'roles.vgo'), roles.join('\n') + '\n');
  fs.writeFileSync(path.join(root, 'common.vgo'), 'vars:\n  org: example\n  host_tag: none\n');
  fs.writeFileSync(
    path.join(root, 'environments.vgo'),
    'env:\n  production:\n    vars: { env_name: production }\n  staging:\n    vars: { env_name: staging }\n',
  );
  const perSite = entryCount / siteCount;
  for (let s = 0; s < siteCount; s++) {
    const lines = ['envoys:'];
    for (let k = 0; k < perSite; k++) {
      const n = s * perSite + k;
      const match =
        n % 2 === 0 ? `host-${pad(n, 5)}.site${s}.example.com` : `web-${pad(n, 5)}-*.site${s}.example.com`;
      lines.push(
        `  - match: "${match}"`,
        `    environment: ${n % 3 === 0 ? 'staging' : 'production'}`,
        `    roles: [role-${pad(n % (crateCount / roleSize), 3)}]`,
        `    vars: { host_tag: "t${n}" }`,
      );
    }
    fs.mkdirSync(path.join(root, `site${s}`));
    fs.writeFileSync(path.join(root, `site${s}`, 'hosts.vgo'), lines.join('\n') + '\n');
  }
}

function hostnames(): string[] {
  const out: string[] = [];
  for (let i = 0; i < lookupCount; i++) {
    const n = (i * 7919) % entryCount;
    const s = Math.floor(n / (entryCount / siteCount));
    if (i % 10 === 9) out.push(`unknown-${i}.elsewhere.org`);
    else if (n % 2 === 0) out.push(`host-${pad(n, 5)}.site${s}.example.com`);
    else out.push(`web-${pad(n, 5)}-${i % 97}.site${s}.example.com`);
  }
  return out;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-bench-'));
  try {
    let t = performance.now();
    generate(root);
    console.log(
      `generated ${crateCount} configcrates, ${entryCount} match entries in ${(performance.now() - t).toFixed(0)} ms (${root})`,
    );
    t = performance.now();
    const cpu = process.cpuUsage();
    const result = await validateStacks(root, {
      protectedPaths: ['/usr/local/bin/vigosrv', '/var/lib/vigo'],
      protectedServices: ['vigosrv.service', 'vigo-envoy.service'],
      secretExists: () => true,
    });
    const compileMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    const compileCpuMs = (used.user + used.system) / 1000;
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (!result.snapshot)
      throw new Error(`benchmark stack did not compile: ${JSON.stringify(errors.slice(0, 3))}`);
    const snap = result.snapshot;
    const resources = snap.entries.reduce((n, e) => n + e.order.length, 0);
    console.log(
      `validate + compile: ${compileMs.toFixed(0)} ms wall, ${compileCpuMs.toFixed(0)} ms CPU (all threads, GC included) — ${snap.entries.length} entries, ${snap.instances.size} configcrate instances, ${resources} resources in entries`,
    );
    const names = hostnames();
    t = performance.now();
    let matched = 0;
    for (const h of names) if (snap.matchEntry(h)) matched++;
    const lookupMs = performance.now() - t;
    console.log(
      `resolve ${names.length} hostnames: ${lookupMs.toFixed(0)} ms (${matched} matched, ${((lookupMs * 1000) / names.length).toFixed(2)} µs each)`,
    );
    console.log(`total: ${(compileMs + lookupMs).toFixed(0)} ms`);
    const mem = process.memoryUsage();
    console.log(`heap used ${mb(mem.heapUsed)}, rss ${mb(mem.rss)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
