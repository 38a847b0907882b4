/**
 * Per-envoy connections in a load generator: each envoy of the slice connects with its own client
 * certificate, as a real agent does. In poll mode an envoy connects, checks in and closes (offering the
 * TLS session its previous connection got when resumption is on); in held mode it keeps its connection
 * open and idle between check-ins.
 *
 * Each envoy's TLS context (CA, its certificate, the key) is built on its first connection and kept, as
 * an agent builds its credentials once per process: building one costs ~1.7 ms of load generator CPU
 * with OpenSSL 3, about as much as the handshake itself, and would otherwise be charged to every poll.
 * Each holds ~33 KB outside the V8 heap: 1.6 GB for the 50,000 envoys of a load generator at full size.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { CheckInRequestSchema, CheckInResponseSchema, VigoAgent } from '../../protocol/index.ts';
import type { CheckInResponse, RequestOf } from '../../protocol/index.ts';
import { readCertSlice } from './envoy-certs.ts';
import { EnvoyLink } from './envoy-link.ts';
import type { LoadgenFleet, PhaseStats } from './loadgen-calls.ts';
import type { Target } from './loadgen-protocol.ts';

const host = '127.0.0.1';
// The server certificate names localhost; TLS SNI may not carry an IP address (RFC 6066).
const servername = 'localhost';
const callDeadlineMs = 60_000;
const connectTimeoutMs = 30_000;
const checkInPath = `/${VigoAgent.typeName}/${VigoAgent.method.checkIn.name}`;

export class EnvoyConnections {
  readonly #fleet: LoadgenFleet;
  readonly #caPem: string;
  readonly #keyPem: string;
  readonly #certPems: string[];
  readonly #contexts: (SecureContext | undefined)[];
  /**
   * The latest TLS session each envoy got from each target, offered on its next poll with resumption
   * (a session is only good with the server that issued it).
   */
  readonly #sessions = new Map<Target, (Buffer | undefined)[]>();
  readonly #held: (EnvoyLink | undefined)[];
  readonly #ports = new Map<Target, number>();

  constructor(fleet: LoadgenFleet, files: { caFile: string; certsFile: string; keyFile: string }) {
    this.#fleet = fleet;
    this.#caPem = readFileSync(files.caFile, 'utf8');
    this.#keyPem = readFileSync(files.keyFile, 'utf8');
    this.#certPems = readCertSlice(files.certsFile, fleet.first, fleet.ids.length);
    const count = fleet.ids.length;
    this.#contexts = new Array<SecureContext | undefined>(count);
    this.#held = new Array<EnvoyLink | undefined>(count);
  }

  setPort(target: Target, port: number): void {
    // A new server (the echo server is started afresh) cannot resume the old one's sessions.
    if (this.#ports.get(target) !== port)
      this.#sessions.set(target, new Array<Buffer | undefined>(this.#fleet.ids.length));
    this.#ports.set(target, port);
  }

  #port(target: Target): number {
    const port = this.#ports.get(target);
    if (port === undefined) throw new Error(`no port known for ${target}`);
    return port;
  }

  #context(envoy: number): SecureContext {
    let context = this.#contexts[envoy];
    if (context === undefined) {
      context = createSecureContext({ ca: this.#caPem, cert: this.#certPems[envoy]!, key: this.#keyPem });
      this.#contexts[envoy] = context;
    }
    return context;
  }

  /** Opens `envoy`'s own connection to `target`, offering its last TLS session when `resume` is set. */
  async #open(target: Target, envoy: number, resume: boolean, stats?: PhaseStats): Promise<EnvoyLink> {
    const port = this.#port(target);
    const sessions = this.#sessions.get(target)!;
    const session = resume ? sessions[envoy] : undefined;
    const link = await EnvoyLink.open({
      host,
      port,
      servername,
      secureContext: this.#context(envoy),
      session,
      onSession: (ticket) => (sessions[envoy] = ticket),
      timeoutMs: connectTimeoutMs,
    });
    stats?.connected(session !== undefined, link.resumed);
    return link;
  }

  static async #checkIn(link: EnvoyLink, request: RequestOf<'CheckIn'>): Promise<CheckInResponse> {
    const reply = await link.unary(checkInPath, toBinary(CheckInRequestSchema, request), callDeadlineMs);
    return fromBinary(CheckInResponseSchema, reply);
  }

  /** The fleet's probe (see LoadgenFleet.probe), over the first envoy's own connection. */
  async probe(): ReturnType<LoadgenFleet['probe']> {
    const link = await this.#open('vigosrv', 0, false);
    try {
      return await this.#fleet.probe((request) => EnvoyConnections.#checkIn(link, request));
    } finally {
      link.close();
    }
  }

  #account(stats: PhaseStats, target: Target, response: CheckInResponse, startedMs: number): void {
    if (target === 'vigosrv' && response.outcome.case !== 'noChange') stats.bundles += 1;
    stats.succeeded(startedMs, 1);
  }

  /**
   * One poll: connect, one no-change check-in, close. Latency runs from `scheduledMs` (open loop) or the
   * start of the connect, so it includes the handshake.
   */
  async poll(stats: PhaseStats, target: Target, envoy: number, resume: boolean, scheduledMs?: number) {
    const startedMs = scheduledMs ?? performance.now();
    let link: EnvoyLink | undefined;
    try {
      link = await this.#open(target, envoy, resume, stats);
      const response = await EnvoyConnections.#checkIn(link, this.#fleet.checkInRequest(envoy));
      this.#account(stats, target, response, startedMs);
    } catch (err) {
      stats.failed(err);
    } finally {
      link?.close();
    }
  }

  /**
   * The first `envoys` of the slice each open their own connection to vigosrv and keep it, `concurrency`
   * connecting at a time (the server refuses more than a few hundred handshakes from one address at once).
   */
  async hold(
    envoys: number,
    concurrency: number,
  ): Promise<{ held: number; failed: number; errors: Record<string, number> }> {
    const count = Math.min(envoys, this.#fleet.ids.length);
    const errors: Record<string, number> = {};
    let next = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const envoy = next++;
        if (this.#held[envoy] !== undefined && !this.#held[envoy].closed) continue;
        try {
          this.#held[envoy] = await this.#open('vigosrv', envoy, false);
        } catch (err) {
          failed += 1;
          const key = err instanceof Error ? err.message.slice(0, 80) : String(err);
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { held: this.heldCount(), failed, errors };
  }

  heldCount(): number {
    return this.#held.reduce((n, link) => n + (link !== undefined && !link.closed ? 1 : 0), 0);
  }

  /** Envoys with a held connection, in slice order. */
  heldEnvoys(): number[] {
    const envoys: number[] = [];
    this.#held.forEach((link, envoy) => {
      if (link !== undefined && !link.closed) envoys.push(envoy);
    });
    return envoys;
  }

  /** Closes held connections beyond the first `keep`. */
  release(keep: number): number {
    this.#held.forEach((link, envoy) => {
      if (envoy >= keep && link !== undefined) {
        link.close();
        this.#held[envoy] = undefined;
      }
    });
    return this.heldCount();
  }

  /** One check-in over `envoy`'s held connection (a closed one counts as a failure, never reopened). */
  async heldCheckIn(stats: PhaseStats, envoy: number, scheduledMs: number): Promise<void> {
    try {
      const link = this.#held[envoy];
      if (link === undefined) throw new Error(`envoy ${envoy} holds no connection`);
      const response = await EnvoyConnections.#checkIn(link, this.#fleet.checkInRequest(envoy));
      this.#account(stats, 'vigosrv', response, scheduledMs);
    } catch (err) {
      stats.failed(err);
    }
  }

  close(): void {
    this.release(0);
  }
}
