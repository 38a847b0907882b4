/**
 * A real AF_UNIX datagram socket standing in for systemd's notification socket: python3 binds it (a path
 * or an abstract "@name"), asks for the senders' credentials (SO_PASSCRED) and prints each datagram as a
 * JSON line with the sender's PID. File descriptors that arrive with a datagram (systemd-notify's
 * BARRIER=1 pipe) are closed at once, as the service manager does, which completes the barrier.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { waitFor } from '../helpers/deadline.ts';

const receiverScript = String.raw`
import json, os, socket, struct, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + name[1:] if name.startswith("@") else name)
print(json.dumps({"bound": name}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(4 * 64) + socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack("%di" % (len(payload) // 4), payload[: len(payload) // 4 * 4]):
                os.close(fd)
    print(json.dumps({"data": data.decode("utf-8", "replace"), "pid": pid}), flush=True)
`;

export interface Datagram {
  /** The message, e.g. "MAINPID=123\nREADY=1\nSTATUS=...". */
  readonly data: string;
  /** The PID the kernel attached to it. */
  readonly pid: number | null;
}

export interface NotifyReceiver {
  readonly address: string;
  readonly datagrams: Datagram[];
  /** The first datagram with the line `assignment` (e.g. "READY=1"). */
  waitFor(assignment: string, timeoutMs?: number): Promise<Datagram>;
  close(): Promise<void>;
}

export function hasAssignment(datagram: Datagram, assignment: string): boolean {
  return datagram.data.split('\n').includes(assignment);
}

export async function startNotifyReceiver(python: string, address: string): Promise<NotifyReceiver> {
  const child: ChildProcess = spawn(python, ['-c', receiverScript, address], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const datagrams: Datagram[] = [];
  let bound = false;
  let stderr = '';
  let pending = '';
  let exited = false;
  child.once('exit', () => (exited = true));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const record = JSON.parse(line) as { bound?: string; data?: string; pid?: number | null };
      if (record.bound !== undefined) bound = true;
      else datagrams.push({ data: record.data ?? '', pid: record.pid ?? null });
    }
  });
  await waitFor(`the receiver to bind ${address}`, () => {
    if (exited) throw new Error(`the notify receiver exited: ${stderr}`);
    return bound ? true : undefined;
  });
  return {
    address,
    datagrams,
    waitFor: (assignment, timeoutMs = 15_000) =>
      waitFor(
        `a datagram with ${assignment} on ${address}`,
        () => datagrams.find((d) => hasAssignment(d, assignment)),
        timeoutMs,
      ),
    close: async () => {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
