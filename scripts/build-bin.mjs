#!/usr/bin/env node
// Bundles vigocli (cli/main.ts) and vigo (agent/main.ts) into dist/bin with esbuild, so bin/vigocli and
// bin/vigo start without compiling TypeScript. dist/bin/manifest.json lists every project file each
// bundle was built from, with its size and mtime; bin/launch.cjs runs a bundle only while all of them are
// unchanged. Files from node_modules are stood for by node_modules/.package-lock.json, which npm rewrites
// on every install, so the check stays about a hundred stat() calls.
//
//   node scripts/build-bin.mjs                 build; exit 1 if it fails
//   node scripts/build-bin.mjs --if-possible   build; on failure warn and leave no build (npm prepare,
//                                              pretest): the commands then run from the sources
import { build, version as esbuildVersion } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'dist', 'bin');
const entries = { vigocli: 'cli/main.ts', vigo: 'agent/main.ts' };

// Native addons and packages that locate their own files stay in node_modules.
const external = [
  'better-sqlite3',
  'bcrypt',
  'esbuild',
  'tsx',
  'swagger-ui-dist',
  'htmx.org',
  'playwright-core',
];

// A bundle runs from dist/bin, two levels below the repository like every source module, and all its
// chunks sit beside it, so `import.meta.dirname/../..` still names the repository. A module that finds a
// file next to itself would not find it there: any first-party input that uses import.meta fails the
// build unless it is one of these, which only resolve packages or the repository root.
const importMetaAllowed = new Set([
  'server/core/worker.ts',
  'server/lifecycle/version.ts',
  'server/lifecycle/policy-runtime.ts',
  'server/store/migrations.ts',
  'server/http/routes/system.ts',
]);

const requireBanner =
  "import { createRequire as __vigoCreateRequire } from 'node:module';\n" +
  'const require = __vigoCreateRequire(import.meta.url);';

/** Every input of `output` and of the chunks it imports, statically or lazily. */
function inputsOf(metafile, output, seen = new Set()) {
  if (seen.has(output)) return new Set();
  seen.add(output);
  const info = metafile.outputs[output];
  const inputs = new Set(Object.keys(info.inputs));
  for (const imp of info.imports) {
    if (imp.external || metafile.outputs[imp.path] === undefined) continue;
    for (const input of inputsOf(metafile, imp.path, seen)) inputs.add(input);
  }
  return inputs;
}

function checkImportMeta(inputs) {
  const offending = [...inputs].filter(
    (input) =>
      !input.includes('node_modules/') &&
      !importMetaAllowed.has(input) &&
      /\bimport\.meta\.(url|dirname|filename|resolve)\b/.test(
        fs.readFileSync(path.join(root, input), 'utf8'),
      ),
  );
  if (offending.length > 0) {
    throw new Error(
      `these modules locate files relative to themselves and would not find them from dist/bin: ${offending.join(', ')}`,
    );
  }
}

const staging = `${outDir}.staging-${process.pid}`;

async function buildBin() {
  fs.rmSync(staging, { recursive: true, force: true });
  const startedAtMs = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: staging,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    banner: { js: requireBanner },
    sourcemap: false,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  const manifest = { format: 1, esbuildVersion, builtAt: new Date().toISOString(), entries: {} };
  for (const name of Object.keys(entries)) {
    const file = `${name}.mjs`;
    const output = path.relative(root, path.join(staging, file));
    const inputs = inputsOf(result.metafile, output);
    checkImportMeta(inputs);
    const own = [...inputs].filter((input) => !input.includes('node_modules/'));
    if (own.length < inputs.size)
      own.push(path.relative(root, path.join(root, 'node_modules', '.package-lock.json')));
    manifest.entries[name] = {
      file,
      inputs: own.sort().map((input) => {
        const st = fs.statSync(path.join(root, input));
        // Edited while esbuild ran: the bundle may hold the old text, so the entry starts out stale.
        return [input, st.mtimeMs >= startedAtMs ? -1 : st.mtimeMs, st.size];
      }),
    };
  }
  // The manifest is written last: a staging directory without one is never taken for a build.
  fs.writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  fs.rmSync(outDir, { recursive: true, force: true });
  try {
    fs.renameSync(staging, outDir);
  } catch (err) {
    // Another build (npm install and npm test at once) put its own in place first: it is as good.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return manifest;
}

const ifPossible = process.argv.includes('--if-possible');
const startedMs = performance.now();
try {
  const manifest = await buildBin();
  const counts = Object.entries(manifest.entries).map(([name, e]) => `${name} (${e.inputs.length} inputs)`);
  process.stdout.write(
    `build-bin: ${counts.join(', ')} in ${path.relative(root, outDir)}, ${Math.round(performance.now() - startedMs)} ms\n`,
  );
} catch (err) {
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
  process.stderr.write(`build-bin: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!ifPossible) process.exit(1);
  process.stderr.write('build-bin: no prebuilt commands; bin/vigocli and bin/vigo run from the sources\n');
}
