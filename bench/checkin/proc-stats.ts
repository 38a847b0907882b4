/**
 * What the kernel says about a process and the processes it started (vigosrv's check-in processes):
 * CPU time (user + system, every thread), resident memory and open descriptors, read from /proc so the
 * figures are the server's own and include grpc-js, libuv and SQLite work alike.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** The kernel's clock tick (`getconf CLK_TCK`), the unit of utime and stime in /proc/<pid>/stat. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = Number.NaN;
    }
    // 100 is what Linux uses on every common architecture; getconf is only missing on minimal images.
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** `pid` and every process below it, read from each process's /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').trim();
        if (children !== '') tree.push(...children.split(' ').map(Number));
      } catch {
        // The task or process ended meanwhile.
      }
    }
  }
  return tree;
}

/** Sums `read` over the process tree of `pid`; a process that ends meanwhile counts nothing. */
function overTree(pid: number, read: (one: number) => number): number {
  let sum = read(pid);
  for (const child of processTree(pid).slice(1)) {
    try {
      sum += read(child);
    } catch {
      // Ended between listing and reading.
    }
  }
  return sum;
}

/**
 * CPU time the process and the processes it started have used so far (utime + stime), in µs; resolution
 * is one clock tick (10 ms). A process that has ended no longer counts.
 */
export function processCpuUs(pid: number): number {
  return overTree(pid, oneProcessCpuUs);
}

/** CPU time of `pid` alone, without the processes it started, in µs. */
export function oneProcessCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses; the fields after its last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot read utime/stime from /proc/${pid}/stat: ${stat.slice(0, 200)}`);
  }
  return ((utime + stime) * 1e6) / clockTicksPerSecond();
}

/** Resident set size (VmRSS) in bytes, the process's and its descendants' together. */
export function processRssBytes(pid: number): number {
  return overTree(pid, oneProcessRssBytes);
}

function oneProcessRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** CPU time every process on the machine has used so far (all cores, excluding idle and I/O wait), in µs. */
export function machineBusyUs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  // "cpu user nice system idle iowait irq softirq steal …": all but idle and iowait is work.
  const busy = [1, 2, 3, 6, 7, 8].map((i) => Number(fields[i]));
  if (fields[0] !== 'cpu' || busy.some((ticks) => !Number.isFinite(ticks))) {
    throw new Error(`cannot read the cpu line of /proc/stat: ${line}`);
  }
  return (busy.reduce((sum, ticks) => sum + ticks, 0) * 1e6) / clockTicksPerSecond();
}

/** File descriptors the process and its descendants have open now (their sockets included). */
export function openDescriptors(pid: number): number {
  return overTree(pid, (one) => readdirSync(`/proc/${one}/fd`).length);
}

/**
 * Waits until the process's open descriptors satisfy `settled` (connections a load generator closed are
 * closed by the server's event loop a moment later), polling with a deadline; returns the last count.
 */
export async function waitForDescriptors(
  pid: number,
  settled: (open: number) => boolean,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = openDescriptors(pid);
    if (settled(open) || Date.now() > deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
