/**
 * Builds the agent's Debian package, vigo-agent_<version>_all.deb, with dpkg-deb (npm run package:deb).
 *
 *   node --import tsx scripts/package-deb.ts [--output DIR]     default DIR: dist/deb
 *
 * The package holds the agent as one self-contained ES module, bundled with the recipe vigosrv's
 * /bootstrap uses (server/bootstrap/agent-artifact.ts), so a packaged host runs the same code as a
 * bootstrapped one and needs no node_modules; a launcher, /usr/bin/vigo; the vigo-envoy unit from
 * deploy/vigo-envoy.service pointed at that launcher; the /etc/vigo settings directory; and the
 * maintainer scripts in deploy/deb, which never start an agent that is not enrolled. It is
 * architecture-independent JavaScript ("all") and depends on Node.js 20.19 or newer.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { agentBuildRecipe } from '../server/bootstrap/agent-artifact.ts';

const root = path.resolve(import.meta.dirname, '..');
const debDir = path.join(root, 'deploy', 'deb');
const packageName = 'vigo-agent';
const unitName = 'vigo-envoy.service';
const launcherPath = '/usr/bin/vigo';
const unitDir = '/usr/lib/systemd/system';

function fail(message: string): never {
  process.stderr.write(`package-deb: ${message}\n`);
  process.exit(1);
}

function outputDir(argv: readonly string[]): string {
  const at = argv.indexOf('--output');
  if (at === -1) return path.join(root, 'dist', 'deb');
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) fail('--output needs a directory');
  return path.resolve(value);
}

/** package.json's version, which must also be a valid Debian upstream version. */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || !/^[0-9][A-Za-z0-9.+~]*$/.test(pkg.version)) {
    fail(`package.json's version ${JSON.stringify(pkg.version)} is not a Debian version`);
  }
  return pkg.version;
}

/** deploy/vigo-envoy.service with ExecStart on the packaged launcher. */
function packagedUnit(): string {
  const text = fs.readFileSync(path.join(root, 'deploy', unitName), 'utf8');
  const execStart = /^ExecStart=\S+ daemon$/m;
  if (!execStart.test(text))
    fail(`deploy/${unitName} has no "ExecStart=... daemon" line to point at ${launcherPath}`);
  return text
    .replace(execStart, `ExecStart=${launcherPath} daemon`)
    .replace(/^# Installed as .*$/m, `# Installed as ${unitDir}/${unitName} by the ${packageName} package.`);
}

function maintainerScript(name: string): string {
  const common = fs.readFileSync(path.join(debDir, 'common.sh'), 'utf8');
  const text = fs.readFileSync(path.join(debDir, name), 'utf8');
  if (!text.includes('#COMMON#\n')) fail(`deploy/deb/${name} has no #COMMON# line`);
  return text.replace('#COMMON#\n', common);
}

async function agentBundle(): Promise<Uint8Array> {
  const result = await build({
    ...agentBuildRecipe,
    entryPoints: [path.join(root, 'agent', 'main.ts')],
    absWorkingDir: root,
    write: false,
    logLevel: 'warning',
  });
  const output = result.outputFiles[0];
  if (output === undefined) fail('esbuild produced no agent bundle');
  return output.contents;
}

function write(stage: string, file: string, content: string | Uint8Array, mode: number): void {
  const target = path.join(stage, file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  fs.writeFileSync(target, content, { mode });
  fs.chmodSync(target, mode);
}

function filesUnder(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full, base);
    return [path.relative(base, full)];
  });
}

/** Who builds the package maintains it: DEBFULLNAME and DEBEMAIL (Debian's convention), else git's user. */
function maintainer(): string {
  const gitConfig = (key: string): string => {
    try {
      return execFileSync('git', ['config', key], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const name = process.env['DEBFULLNAME'] || gitConfig('user.name');
  const email = process.env['DEBEMAIL'] || gitConfig('user.email');
  if (name === '' || !/^[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/.test(email) || /[<>\n]/.test(name)) {
    fail(
      'set DEBFULLNAME and DEBEMAIL (or git config user.name and user.email): the package names its maintainer',
    );
  }
  return `${name} <${email}>`;
}

function control(version: string, installedKiB: number, maintainedBy: string): string {
  return [
    `Package: ${packageName}`,
    `Version: ${version}`,
    'Architecture: all',
    `Maintainer: ${maintainedBy}`,
    `Installed-Size: ${installedKiB}`,
    'Depends: nodejs (>= 20.19)',
    'Section: admin',
    'Priority: optional',
    'Description: Vigo envoy: converges this host to its policy from vigosrv',
    " The vigo agent pulls this host's signed policy bundle from a vigosrv server",
    ' over mutually authenticated gRPC and converges packages, files, services and',
    ' users to it, reporting every change. It runs as the vigo-envoy systemd',
    ' service once the host is enrolled with `vigo enroll`.',
    '',
  ].join('\n');
}

function changelog(version: string, maintainedBy: string): Uint8Array {
  const date = new Date(Number(process.env['SOURCE_DATE_EPOCH'] ?? Date.now() / 1000) * 1000);
  const rfc2822 = date.toUTCString().replace('GMT', '+0000');
  const text = [
    `${packageName} (${version}) unstable; urgency=medium`,
    '',
    `  * Package of the vigo agent from vigo-ts ${version}.`,
    '',
    ` -- ${maintainedBy}  ${rfc2822}`,
    '',
  ].join('\n');
  return gzipSync(text, { level: 9 });
}

const copyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vigo-ts

Files: *
Copyright: the Vigo-TS authors
License: UNLICENSED
 No license is granted (package.json declares "UNLICENSED"). The bundled
 third-party modules keep their own licenses, listed at the end of
 /usr/lib/vigo/vigo.mjs.
`;

async function main(): Promise<void> {
  const version = packageVersion();
  const maintainedBy = maintainer();
  const outDir = outputDir(process.argv.slice(2));
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-deb-'));
  try {
    fs.chmodSync(stage, 0o755);
    const doc = `/usr/share/doc/${packageName}`;
    write(stage, 'usr/lib/vigo/vigo.mjs', await agentBundle(), 0o644);
    write(stage, launcherPath.slice(1), fs.readFileSync(path.join(debDir, 'vigo')), 0o755);
    write(stage, `${unitDir.slice(1)}/${unitName}`, packagedUnit(), 0o644);
    write(stage, `${doc.slice(1)}/copyright`, copyright, 0o644);
    // A native package (the version has no Debian revision): its changelog is changelog.gz.
    write(stage, `${doc.slice(1)}/changelog.gz`, changelog(version, maintainedBy), 0o644);
    write(
      stage,
      `${doc.slice(1)}/agent.example.yaml`,
      fs.readFileSync(path.join(root, 'agent', 'config', 'agent.example.yaml')),
      0o644,
    );
    fs.mkdirSync(path.join(stage, 'etc', 'vigo'), { recursive: true, mode: 0o755 });

    const payload = filesUnder(stage).sort();
    const installedBytes = payload.reduce((sum, file) => sum + fs.statSync(path.join(stage, file)).size, 0);
    const md5sums = payload
      .map(
        (file) =>
          `${createHash('md5')
            .update(fs.readFileSync(path.join(stage, file)))
            .digest('hex')}  ${file}\n`,
      )
      .join('');
    write(stage, 'DEBIAN/control', control(version, Math.ceil(installedBytes / 1024), maintainedBy), 0o644);
    write(stage, 'DEBIAN/md5sums', md5sums, 0o644);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      write(stage, `DEBIAN/${script}`, maintainerScript(script), 0o755);
    }

    fs.mkdirSync(outDir, { recursive: true });
    const deb = path.join(outDir, `${packageName}_${version}_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    process.stdout.write(`package-deb: ${deb}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

await main();
