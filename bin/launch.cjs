// Starts vigocli or vigo from the prebuilt bundle in dist/bin when it is up to date, else from the
// TypeScript sources through tsx. "Up to date" means every file the bundle was built from (esbuild's
// input list, kept in dist/bin/manifest.json with each file's size and mtime) is unchanged: an edited,
// moved or deleted source sends the command to the sources, never to old code. The check is a stat()
// per input, done synchronously before anything else loads. VIGO_BIN_TRACE=1 says on stderr which
// one runs and why.
'use strict';
/* global require, module, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: it runs before any loader */
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.join(__dirname, '..');
const buildDir = path.join(root, 'dist', 'bin');
const manifestFormat = 1;

/** The bundle to run for `name`, or why there is none: { file } or { reason }. */
function freshBuild(name) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(buildDir, 'manifest.json'), 'utf8'));
  } catch (err) {
    return {
      reason: err.code === 'ENOENT' ? 'no build (npm run build:bin makes one)' : 'unreadable build manifest',
    };
  }
  const entry = manifest && manifest.format === manifestFormat && manifest.entries && manifest.entries[name];
  if (!entry || typeof entry.file !== 'string' || !Array.isArray(entry.inputs))
    return { reason: 'the build manifest does not describe this command' };
  for (const input of entry.inputs) {
    if (!Array.isArray(input) || typeof input[0] !== 'string') return { reason: 'malformed build manifest' };
    const st = fs.statSync(path.resolve(root, input[0]), { throwIfNoEntry: false });
    if (st === undefined) return { reason: `${input[0]} is gone since the build` };
    if (st.mtimeMs !== input[1] || st.size !== input[2])
      return { reason: `${input[0]} changed since the build` };
  }
  const file = path.join(buildDir, entry.file);
  if (!fs.existsSync(file)) return { reason: `${entry.file} is missing from the build` };
  return { file };
}

function fail(name, err) {
  process.stderr.write(`${name}: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(70);
}

/** Runs command `name`: its bundle when fresh, else `source` (relative to the repository) through tsx. */
function launch(name, source) {
  const trace = process.env.VIGO_BIN_TRACE === '1';
  const build = freshBuild(name);
  if (build.file !== undefined) {
    if (trace) process.stderr.write(`${name}: running the build ${path.relative(root, build.file)}\n`);
    import(pathToFileURL(build.file).href).catch((err) => {
      // A chunk went missing between the check and the import (a build replacing dist/bin right then):
      // nothing has run yet, since modules are linked before any of them is evaluated.
      if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(buildDir)) {
        runSources(name, source, trace, 'the build changed while starting');
        return;
      }
      fail(name, err);
    });
    return;
  }
  runSources(name, source, trace, build.reason);
}

function runSources(name, source, trace, reason) {
  if (trace) process.stderr.write(`${name}: running the sources: ${reason}\n`);
  import('tsx/esm')
    .then(() => import(pathToFileURL(path.join(root, source)).href))
    .catch((err) => fail(name, err));
}

module.exports = { launch, freshBuild, buildDir };
