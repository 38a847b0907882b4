import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createPackageExecutor } from './package.ts';
import type { ExecutorContext } from './types.ts';
import { unixSetup, type UnixTestSetup } from './unix-test-support.ts';

/**
 * Fake package managers: shell scripts that log their argv and keep a package database as files
 * (<db>/<name> holds the installed version, <db>/<name>.new marks an available update), answering
 * the queries the providers make the way the real tools do (output and exit codes).
 */
const fakes: Record<string, string> = {
  rpm: `[ "$1" = -q ] || exit 9
n="$4"; if [ -f "$DB/$n" ]; then cat "$DB/$n"; else echo "package $n is not installed"; exit 1; fi`,
  yum: `case "$1" in
  -q) [ -f "$DB/$3.new" ] && exit 100; exit 0 ;;
  install) shift 3; for p in "$@"; do n="\${p%%-[0-9]*}"; v="\${p#"$n"}"; v="\${v#-}"; echo "\${v:-1.0-1}" > "$DB/$n"; done ;;
  update) shift 3; for n in "$@"; do cat "$DB/$n.new" > "$DB/$n"; rm "$DB/$n.new"; done ;;
  remove) shift 3; for n in "$@"; do rm -f "$DB/$n"; done ;;
  *) exit 9 ;;
esac`,
  zypper: `shift 2; case "$1" in
  list-updates) for f in "$DB"/*.new; do [ -f "$f" ] || continue; n=$(basename "$f" .new); echo "v | repo | $n | $(cat "$DB/$n") | $(cat "$f") | x86_64"; done ;;
  install) shift 2; for p in "$@"; do n="\${p%%=*}"; v="\${p#"$n"}"; v="\${v#=}"; echo "\${v:-2.0-1}" > "$DB/$n"; done; exit 103 ;;
  update) shift; for n in "$@"; do cat "$DB/$n.new" > "$DB/$n"; rm "$DB/$n.new"; done ;;
  remove) shift; for n in "$@"; do [ -f "$DB/$n" ] || { echo "'$n' not found in package names" >&2; exit 104; }; rm "$DB/$n"; done ;;
  *) exit 9 ;;
esac`,
  pacman: `case "$1" in
  -Q) n="$3"; [ -f "$DB/$n" ] || { echo "error: package '$n' was not found" >&2; exit 1; }; echo "$n $(cat "$DB/$n")" ;;
  -Qu) n="$3"; [ -f "$DB/$n.new" ] || exit 1; echo "$n $(cat "$DB/$n") -> $(cat "$DB/$n.new")" ;;
  -S) shift 3; [ "$1" = -- ] && shift; for n in "$@"; do if [ -f "$DB/$n.new" ]; then cat "$DB/$n.new" > "$DB/$n"; rm "$DB/$n.new"; else echo "3.0-1" > "$DB/$n"; fi; done ;;
  -R) shift 3; for n in "$@"; do rm -f "$DB/$n"; done ;;
  *) exit 9 ;;
esac`,
};

interface Fake {
  ctx: (dryRun?: boolean) => ExecutorContext;
  db: string;
  bin: string;
  /** argv of every call to a fake, "tool arg…". */
  log: () => string[];
}

function fakeTools(s: UnixTestSetup, tools: readonly string[]): Fake {
  const bin = s.at('/bin');
  const db = s.at('/db');
  const logFile = s.at('/calls.log');
  fs.mkdirSync(bin);
  fs.mkdirSync(db);
  for (const tool of tools) {
    const body = `#!/bin/sh\necho "${tool} $*" >> "${logFile}"\nDB="${db}"\n${fakes[tool]}\n`;
    fs.writeFileSync(path.join(bin, tool), body, { mode: 0o755 });
  }
  const ctx = (dryRun = false): ExecutorContext => ({
    ...s.ctx(dryRun),
    run: (file, args, options) => {
      const fake = path.join(bin, file);
      return runCommand(fs.existsSync(fake) ? fake : path.join(bin, 'missing'), args, options);
    },
  });
  const log = (): string[] =>
    fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n') : [];
  return { ctx, db, bin, log };
}

describe('package providers yum, zypper and pacman (against the command contract)', () => {
  it('yum: installs with a pinned version, upgrades for latest, removes, querying rpm', async (t) => {
    const f = fakeTools(unixSetup(t), ['rpm', 'yum']);
    const ex = createPackageExecutor({ detect: () => 'yum' });
    const r = await ex.apply({ package: 'nginx', version: '1.20.1-10.el7' }, f.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(r.message, 'installed nginx 1.20.1-10.el7 (yum)');
    assert.equal((await ex.apply({ package: 'nginx', version: '1.20.1' }, f.ctx())).outcome, 'none');
    fs.writeFileSync(path.join(f.db, 'nginx.new'), '1.22.0-1.el7\n');
    const latest = await ex.apply({ package: 'nginx', state: 'latest' }, f.ctx());
    assert.equal(latest.message, 'upgraded nginx 1.20.1-10.el7 -> 1.22.0-1.el7 (yum)');
    assert.equal((await ex.apply({ package: 'nginx', state: 'absent' }, f.ctx())).outcome, 'deleted');
    assert.deepEqual(
      f.log().filter((l) => l.startsWith('yum')),
      [
        'yum install -y -q nginx-1.20.1-10.el7',
        'yum -q check-update nginx',
        'yum update -y -q nginx',
        'yum -q check-update nginx',
        'yum remove -y -q nginx',
      ],
    );
  });

  it('zypper: treats exit 103 as success, reads list-updates, and reports a failing remove with its command', async (t) => {
    const f = fakeTools(unixSetup(t), ['rpm', 'zypper']);
    const ex = createPackageExecutor({ detect: () => 'zypper' });
    const r = await ex.apply({ names: ['vim', 'curl'] }, f.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(r.message, 'installed vim 2.0-1, curl 2.0-1 (zypper)');
    fs.writeFileSync(path.join(f.db, 'curl.new'), '2.1-1\n');
    const latest = await ex.apply({ names: ['vim', 'curl'], state: 'latest' }, f.ctx());
    assert.equal(latest.message, 'upgraded curl 2.0-1 -> 2.1-1 (zypper)');
    assert.ok(f.log().includes('zypper --non-interactive --quiet install --no-recommends vim curl'));
    // The database says installed, zypper disagrees: its failure is reported with the command.
    fs.rmSync(path.join(f.bin, 'zypper'));
    fs.writeFileSync(
      path.join(f.bin, 'zypper'),
      `#!/bin/sh\necho "'vim' not found in package names" >&2\nexit 104\n`,
      { mode: 0o755 },
    );
    const gone = await ex.apply({ package: 'vim', state: 'absent' }, f.ctx());
    assert.equal(gone.outcome, 'failed');
    assert.equal(
      gone.message,
      "package vim: zypper --non-interactive --quiet remove vim failed (exit 104): 'vim' not found in package names",
    );
  });

  it('pacman: installs with --needed, upgrades from -Qu, refuses a pinned version, removes', async (t) => {
    const f = fakeTools(unixSetup(t), ['pacman']);
    const ex = createPackageExecutor({ detect: () => 'pacman' });
    const r = await ex.apply({ package: 'htop' }, f.ctx());
    assert.equal(r.message, 'installed htop 3.0-1 (pacman)');
    assert.equal((await ex.apply({ package: 'htop' }, f.ctx())).outcome, 'none');
    fs.writeFileSync(path.join(f.db, 'htop.new'), '3.1-1\n');
    const latest = await ex.apply({ package: 'htop', state: 'latest' }, f.ctx());
    assert.equal(latest.message, 'upgraded htop 3.0-1 -> 3.1-1 (pacman)');
    const pinned = await ex.apply({ package: 'tmux', version: '3.3a-1' }, f.ctx());
    assert.equal(pinned.outcome, 'failed');
    assert.match(pinned.message, /pacman installs the repositories’ version only/);
    assert.equal((await ex.apply({ package: 'htop', state: 'absent' }, f.ctx())).outcome, 'deleted');
    assert.deepEqual(
      f.log().filter((l) => l.startsWith('pacman -S') || l.startsWith('pacman -R')),
      [
        'pacman -S --noconfirm --needed -- htop',
        'pacman -S --noconfirm -- htop',
        'pacman -R --noconfirm -- htop',
      ],
    );
  });
});
