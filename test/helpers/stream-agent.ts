/**
 * A protocol-level agent for orchestration tests: an enrolled envoy that opens AgentStream with its own
 * certificate and signing key, says Hello, records every TaskDispatch it receives and answers it with a
 * TaskResult the test chooses. Like the reference agent, it answers a task_id it already answered with
 * the same result instead of running it again.
 */
import type * as grpc from '@grpc/grpc-js';
import { createEnvelopeClock, signRequest, TaskStatus } from '../../protocol/index.ts';
import type { PayloadInit, TaskDispatch } from '../../protocol/index.ts';
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

export const succeedWith =
  (stdout: (dispatch: TaskDispatch) => string): Responder =>
  (dispatch) => ({ status: TaskStatus.SUCCEEDED, exitCode: 0, stdout: stdout(dispatch) });

export class StreamAgent {
  /** Every dispatch received, in order, re-sends included. */
  readonly dispatches: TaskDispatch[] = [];
  /** How many times each task_id was actually "run" (answered for the first time). */
  readonly runs = new Map<string, number>();
  readonly #answered = new Map<string, Answer>();
  readonly #clock = createEnvelopeClock();
  #client: ReturnType<typeof agentClient> | undefined;
  #stream: ReturnType<ReturnType<typeof agentClient>['methods']['agentStream']> | undefined;
  #ended: Promise<void> | undefined;

  constructor(
    private server: ReadyServer,
    readonly identity: EnrolledAgent,
    public respond: Responder,
  ) {}

  get envoyId(): string {
    return this.identity.envoyId;
  }

  /** Points the agent at a restarted server (same data dir, new ports). */
  retarget(server: ReadyServer): void {
    this.server = server;
  }

  /** Opens the stream and says Hello; resolves once the server has taken it (isOpen on its side). */
  async connect(): Promise<void> {
    const client = agentClient(this.server, this.identity);
    const stream = client.methods.agentStream();
    this.#client = client;
    this.#stream = stream;
    this.#ended = new Promise((resolve) => {
      stream.on('status', () => resolve());
      stream.on('error', () => resolve());
    });
    stream.on('data', (message: { kind: { case?: string; value?: unknown } }) => {
      if (message.kind.case === 'taskDispatch') this.#onDispatch(message.kind.value as TaskDispatch);
    });
    this.#say({ case: 'hello', value: { agentVersion: 'stream-agent' } });
    // The Hello takes effect once its watermark is durable; a heartbeat round makes that observable.
    this.#say({ case: 'heartbeat', value: {} });
  }

  /** Ends the stream from the agent's side and waits for it to close. */
  async disconnect(): Promise<void> {
    const stream = this.#stream;
    if (stream === undefined) return;
    this.#stream = undefined;
    stream.end();
    stream.cancel();
    await this.#ended;
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
    const stream = this.#stream as grpc.ClientDuplexStream<unknown, unknown> | undefined;
    if (stream === undefined) return;
    stream.write(
      signRequest('AgentStream', this.identity.signingKey, this.identity.envoyId, this.#clock(), { kind }),
    );
  }
}
