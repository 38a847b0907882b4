/**
 * Publish-path benchmark: generates a stack of 1,000 configcrates (100 roles of 10) and 10,000
 * match entries (half literal hostnames, half globs, spread over 10 site directories), validates and
 * compiles it the way the server does (in the validator worker, the snapshot handed back as its encoded
 * body, entries parsed on the main thread only when first matched), then resolves 100,000 hostnames to
 * entries; finally a dry run computes the impact report for a fleet of those 100,000 hostnames. Prints
 * figures only.
 *
 *   node --import tsx bench/publish.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { silentLogger } from '../server/core/index.ts';
import { LazySnapshot } from '../server/policy/index.ts';
import { createValidatorPool } from '../server/publish/index.ts';

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

/** What an operator typically changes between publishes: one configcrate and one host's variables. */
function edit(root: string): void {
  const crate = path.join(root, 'configcrates', 'svc-0005.vgo');
  fs.writeFileSync(crate, fs.readFileSync(crate, 'utf8').replace('mode: "0750"', 'mode: "0755"'));
  const hosts = path.join(root, 'site3', 'hosts.vgo');
  fs.writeFileSync(hosts, fs.readFileSync(hosts, 'utf8').replace('host_tag: "t3000"', 'host_tag: "t3000-b"'));
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

const validatorOptions = {
  protectedPaths: ['/usr/local/bin/vigosrv', '/var/lib/vigo'],
  protectedServices: ['vigosrv.service', 'vigo-envoy.service'],
  knownSecrets: [],
};

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-bench-'));
  const pool = createValidatorPool({
    log: silentLogger,
    limits: () => ({ timeoutMs: 300_000, maxHeapMb: 1024, maxQueued: 1 }),
  });
  try {
    let t = performance.now();
    generate(root);
    console.log(
      `generated ${crateCount} configcrates, ${entryCount} match entries in ${(performance.now() - t).toFixed(0)} ms (${root})`,
    );
    // A running server's worker has validated before (the start-up publish, earlier publishes): start
    // this one the same way, on the demo stacks, and report that separately.
    t = performance.now();
    const demo = path.join(import.meta.dirname, '..', 'policies', 'demo');
    await pool.run({
      tree: { kind: 'dir', dir: demo },
      options: validatorOptions,
      nowMs: Date.now(),
      wantSnapshot: false,
    });
    console.log(
      `validator worker started and warmed on policies/demo in ${(performance.now() - t).toFixed(0)} ms (not counted below)`,
    );

    const names = hostnames();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const publishOnce = async (label: string): Promise<void> => {
      loop.reset();
      loop.enable();
      let t = performance.now();
      const cpu = process.cpuUsage();
      const result = await pool.run({
        tree: { kind: 'dir', dir: root },
        options: validatorOptions,
        nowMs: Date.now(),
        wantSnapshot: true,
      });
      const compileMs = performance.now() - t;
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      const encoded = result.snapshot?.encoded;
      if (encoded === undefined)
        throw new Error(`benchmark stack did not compile: ${JSON.stringify(errors.slice(0, 3))}`);
      t = performance.now();
      const snap = new LazySnapshot(encoded.body, encoded.index);
      const restoreMs = performance.now() - t;
      loop.disable();
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      const { validate, encode } = result.timingsMs;
      const carried = `${result.carried.crates} configcrate definitions and ${result.carried.instances} instances taken from the last validation`;
      console.log(`${label}:`);
      console.log(
        `  validate + compile in the worker, encoded and handed over: ${compileMs.toFixed(0)} ms wall (validate ${validate} ms, encode ${encode} ms, hand-over ${(compileMs - validate - encode).toFixed(0)} ms) — ${snap.entryCount} entries, ${snap.instances.size} configcrate instances; ${carried}`,
      );
      console.log(
        `  snapshot on the main thread: ${(encoded.body.length / 1024 / 1024).toFixed(1)} MiB body, hostname index built in ${restoreMs.toFixed(0)} ms (entries are parsed when a bundle first needs them)`,
      );
      console.log(
        `  process CPU ${cpuMs.toFixed(0)} ms (all threads, GC included); longest main event loop delay meanwhile: ${(loop.max / 1e6).toFixed(0)} ms`,
      );
      t = performance.now();
      let matched = 0;
      for (const h of names) if (snap.matchEntry(h)) matched++;
      const lookupMs = performance.now() - t;
      console.log(
        `  resolve ${names.length} hostnames, parsing each matched entry once: ${lookupMs.toFixed(0)} ms (${matched} matched, ${((lookupMs * 1000) / names.length).toFixed(2)} µs each)`,
      );
      console.log(`  total: ${(compileMs + restoreMs + lookupMs).toFixed(0)} ms`);
    };
    await publishOnce(
      'first validation of this tree in a fresh worker (what a server does at start: the start-up publish of its stacks directory, or, in the background, the upload the active version came from)',
    );
    edit(root);
    await publishOnce(
      'an operator publish after editing two files (one configcrate, one host entry): the worker carries every unchanged instance',
    );
    await publishOnce('the same tree again');

    // A dry run against a fleet of those 100,000 hostnames: the impact report is computed in the worker too.
    loop.reset();
    loop.enable();
    t = performance.now();
    const dry = await pool.run({
      tree: { kind: 'dir', dir: root },
      options: validatorOptions,
      nowMs: Date.now(),
      wantSnapshot: false,
      impact: { activeHash: undefined, hostnames: names, dbFile: '' },
    });
    loop.disable();
    console.log(
      `dry run with the impact on ${names.length} enrolled hostnames: ${(performance.now() - t).toFixed(0)} ms wall (impact ${dry.timingsMs.impact} ms: ${dry.impact?.envoysChanging ?? 0} envoys changing in ${dry.impact?.groups.length ?? 0} groups); longest main event loop delay ${(loop.max / 1e6).toFixed(0)} ms`,
    );
    const mem = process.memoryUsage();
    console.log(`main thread heap used ${mb(mem.heapUsed)}, process rss ${mb(mem.rss)}`);
  } finally {
    await pool.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
