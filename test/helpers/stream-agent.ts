/**
 * A protocol-level agent for orchestration tests: an enrolled envoy (agent-client.ts) that checks in and
 * holds an AgentStream on the real vigosrv with its own certificate and signing key, signing every message
 * as agent.proto says. It records every message the server pushes, answers each TaskDispatch with the
 * TaskResult the test chooses and each LiveQuery with the value the test chooses (or stays silent). Like
 * the reference agent, it answers a task_id it already answered with the same result instead of running
 * it again.
 */
import type * as grpc from '@grpc/grpc-js';
import { createEnvelopeClock, signRequest, TaskStatus } from '../../protocol/index.ts';
import type {
  AgentStreamResponse,
  CheckInResponse,
  LiveQuery,
  PayloadInit,
  TaskDispatch,
} from '../../protocol/index.ts';
import type { EnrolledAgent } from './agent-client.ts';
import { agentClient } from './agent-client.ts';
import { waitFor } from './deadline.ts';
import type { ReadyServer } from './server-process.ts';

export interface Answer {
  status: TaskStatus;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  message?: string;
}

/** How the agent answers a dispatch: an Answer, or undefined to stay silent (a task still running). */
export type Responder = (dispatch: TaskDispatch) => Answer | undefined;

/** How the agent answers a LiveQuery: JSON text for a value, `{ error }` for a failed read, undefined to stay silent. */
export type QueryAnswer = (traitPath: string, query: LiveQuery) => string | { error: string } | undefined;

export const succeedWith =
  (stdout: (dispatch: TaskDispatch) => string): Responder =>
  (dispatch) => ({ status: TaskStatus.SUCCEEDED, exitCode: 0, stdout: stdout(dispatch) });

const silent = (): undefined => undefined;

type Client = ReturnType<typeof agentClient>;

export class StreamAgent {
  /** Every message the server pushed, in order. */
  readonly received: AgentStreamResponse[] = [];
  /** Every dispatch received, in order, re-sends included. */
  readonly dispatches: TaskDispatch[] = [];
  /** How many times each task_id was actually "run" (answered for the first time). */
  readonly runs = new Map<string, number>();
  /** How the agent answers live queries; tests may swap it between connects. */
  answerQuery: QueryAnswer;
  readonly #answered = new Map<string, Answer>();
  readonly #clock = createEnvelopeClock();
  #client: Client | undefined;
  #stream: grpc.ClientDuplexStream<unknown, AgentStreamResponse> | undefined;
  #ended: Promise<void> | undefined;

  constructor(
    private server: Pick<ReadyServer, 'ca' | 'grpcPort'>,
    readonly identity: EnrolledAgent,
    public respond: Responder = silent,
    answerQuery: QueryAnswer = silent,
  ) {
    this.answerQuery = answerQuery;
  }

  get envoyId(): string {
    return this.identity.envoyId;
  }

  /** Points the agent at a restarted server (same data dir, new ports). */
  retarget(server: Pick<ReadyServer, 'ca' | 'grpcPort'>): void {
    this.#client?.close();
    this.#client = undefined;
    this.server = server;
  }

  /** One signed CheckIn on the agent's connection. */
  checkIn(payload: PayloadInit<'CheckIn'>): Promise<CheckInResponse> {
    return this.#connection().methods.checkIn(
      signRequest('CheckIn', this.identity.signingKey, this.identity.envoyId, this.#clock(), {
        hostname: this.identity.hostname,
        ...payload,
      }),
    );
  }

  /** Opens the stream and says Hello; the server counts it open once the Hello is durable. */
  async connect(): Promise<void> {
    const stream = this.#connection().methods.agentStream() as unknown as grpc.ClientDuplexStream<
      unknown,
      AgentStreamResponse
    >;
    this.#stream = stream;
    this.#ended = new Promise((resolve) => {
      stream.on('status', () => resolve());
      stream.on('error', () => resolve());
    });
    stream.on('data', (message: AgentStreamResponse) => this.#onMessage(message));
    this.#say({ case: 'hello', value: { agentVersion: 'stream-agent' } });
    // The Hello takes effect once its watermark is durable; a heartbeat round makes that observable.
    this.#say({ case: 'heartbeat', value: {} });
  }

  /** Ends the stream from the agent's side, waits for it to close and drops the connection. */
  async disconnect(): Promise<void> {
    const stream = this.#stream;
    if (stream !== undefined) {
      this.#stream = undefined;
      stream.end();
      stream.cancel();
      await this.#ended;
    }
    this.#client?.close();
    this.#client = undefined;
  }

  /** Answers a task that was left unanswered (the responder said undefined) with `answer`. */
  answerLater(taskId: string, answer: Answer): void {
    this.#answered.set(taskId, answer);
    this.runs.set(taskId, (this.runs.get(taskId) ?? 0) + 1);
    this.#send(taskId, answer);
  }

  async waitForDispatches(count: number, timeoutMs = 15_000): Promise<TaskDispatch[]> {
    return waitFor(
      `${this.identity.hostname} to receive ${count} dispatch(es)`,
      () => (this.dispatches.length >= count ? this.dispatches : undefined),
      timeoutMs,
    );
  }

  #connection(): Client {
    this.#client ??= agentClient(this.server, this.identity);
    return this.#client;
  }

  #onMessage(message: AgentStreamResponse): void {
    this.received.push(message);
    if (message.kind.case === 'taskDispatch') this.#onDispatch(message.kind.value);
    else if (message.kind.case === 'liveQuery') this.#onQuery(message.kind.value);
  }

  #onQuery(query: LiveQuery): void {
    const reply = this.answerQuery(query.traitPath, query);
    if (reply === undefined) return;
    this.#say({
      case: 'queryResult',
      value:
        typeof reply === 'string'
          ? { queryId: query.queryId, valueJson: Buffer.from(reply) }
          : { queryId: query.queryId, error: reply.error },
    });
  }

  #onDispatch(dispatch: TaskDispatch): void {
    this.dispatches.push(dispatch);
    const stored = this.#answered.get(dispatch.taskId);
    if (stored !== undefined) return this.#send(dispatch.taskId, stored);
    const answer = this.respond(dispatch);
    if (answer === undefined) return;
    this.#answered.set(dispatch.taskId, answer);
    this.runs.set(dispatch.taskId, (this.runs.get(dispatch.taskId) ?? 0) + 1);
    this.#send(dispatch.taskId, answer);
  }

  #send(taskId: string, answer: Answer): void {
    const started = Date.now();
    this.#say({
      case: 'taskResult',
      value: {
        taskId,
        status: answer.status,
        exitCode: answer.exitCode ?? 0,
        stdout: Buffer.from(answer.stdout ?? ''),
        stderr: Buffer.from(answer.stderr ?? ''),
        startedAtMs: BigInt(started),
        finishedAtMs: BigInt(started + 1),
        message: answer.message ?? '',
      },
    });
  }

  #say(kind: PayloadInit<'AgentStream'>['kind']): void {
    this.#stream?.write(
      signRequest('AgentStream', this.identity.signingKey, this.identity.envoyId, this.#clock(), { kind }),
    );
  }
}
