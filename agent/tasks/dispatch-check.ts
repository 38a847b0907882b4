/**
 * Parses a TaskDispatch before anything acts on it: every limit agent.proto documents on its fields, and
 * the agent's own sanity rules (a known action, a nice value in range). A dispatch that fails is answered
 * REJECTED with the reason and never run. One whose task_id is not a UUID cannot be answered at all (the
 * server ends a stream whose TaskResult names no UUID), so it is only logged.
 */
import { protocolLimits } from '../../protocol/index.ts';
import type { TaskDispatch } from '../../protocol/index.ts';
import type { TaskRequest } from './types.ts';

export const taskLimits = {
  commandMaxBytes: 64 * 1024,
  taskNameMaxBytes: 256,
  paramsMaxEntries: 256,
  paramKeyMaxBytes: 256,
  paramValueMaxBytes: 64 * 1024,
  niceMin: -20,
  niceMax: 19,
  /** timeout_seconds 0 means this. */
  defaultTimeoutMs: 300_000,
  /** The longest timer Node.js keeps (about 24.8 days); a longer timeout_seconds is held to it. */
  maxTimeoutMs: 2 ** 31 - 1,
} as const;

const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export type CheckedDispatch =
  | { readonly ok: true; readonly task: TaskRequest }
  /** Answer REJECTED with `message`, echoing `traceparent`. */
  | {
      readonly ok: false;
      readonly answerable: true;
      readonly taskId: string;
      readonly traceparent: string;
      readonly message: string;
    }
  | { readonly ok: false; readonly answerable: false; readonly message: string };

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** `text` cut to at most `max` UTF-8 bytes without splitting a character. */
export function clipText(text: string, max: number = protocolLimits.messageTextMaxBytes): string {
  if (bytes(text) <= max) return text;
  const ellipsis = '…';
  let cut = Buffer.from(text, 'utf8')
    .subarray(0, max - bytes(ellipsis))
    .toString('utf8');
  // A cut inside a character decodes to U+FFFD at the end; drop it.
  cut = cut.replace(/\uFFFD+$/u, '');
  return cut + ellipsis;
}

function paramsProblem(params: Record<string, string>): string | undefined {
  const entries = Object.entries(params);
  if (entries.length > taskLimits.paramsMaxEntries)
    return `params holds ${entries.length} entries; the limit is ${taskLimits.paramsMaxEntries}`;
  for (const [key, value] of entries) {
    if (bytes(key) > taskLimits.paramKeyMaxBytes)
      return `params key "${clipText(key, 64)}" is ${bytes(key)} bytes; the limit is ${taskLimits.paramKeyMaxBytes}`;
    if (bytes(value) > taskLimits.paramValueMaxBytes)
      return `params value of "${clipText(key, 64)}" is ${bytes(value)} bytes; the limit is ${taskLimits.paramValueMaxBytes}`;
  }
  return undefined;
}

function actionProblem(dispatch: TaskDispatch): string | undefined {
  const { action } = dispatch;
  switch (action.case) {
    case 'command':
      if (action.value.trim() === '') return 'command is empty';
      if (bytes(action.value) > taskLimits.commandMaxBytes)
        return `command is ${bytes(action.value)} bytes; the limit is ${taskLimits.commandMaxBytes}`;
      if (action.value.includes('\0')) return 'command contains a NUL byte';
      return undefined;
    case 'taskName':
      if (action.value === '') return 'task_name is empty';
      if (bytes(action.value) > taskLimits.taskNameMaxBytes)
        return `task_name is ${bytes(action.value)} bytes; the limit is ${taskLimits.taskNameMaxBytes}`;
      return undefined;
    default:
      return 'the dispatch sets neither command nor task_name';
  }
}

export function checkDispatch(dispatch: TaskDispatch): CheckedDispatch {
  const { taskId } = dispatch;
  if (!uuidText.test(taskId))
    return {
      ok: false,
      answerable: false,
      message: `task_id ${JSON.stringify(clipText(taskId, 64))} is not a UUID in its text form`,
    };
  const traceparentTooLong = bytes(dispatch.traceparent) > protocolLimits.traceparentMaxBytes;
  const traceparent = traceparentTooLong ? '' : dispatch.traceparent;
  const problem =
    (traceparentTooLong
      ? `traceparent is ${bytes(dispatch.traceparent)} bytes; the limit is ${protocolLimits.traceparentMaxBytes}`
      : undefined) ??
    actionProblem(dispatch) ??
    paramsProblem(dispatch.params) ??
    (dispatch.nice < taskLimits.niceMin || dispatch.nice > taskLimits.niceMax
      ? `nice ${dispatch.nice} is outside ${taskLimits.niceMin}..${taskLimits.niceMax}`
      : undefined);
  if (problem !== undefined)
    return { ok: false, answerable: true, taskId, traceparent, message: `invalid dispatch: ${problem}` };
  const action: TaskRequest['action'] =
    dispatch.action.case === 'command'
      ? { kind: 'command', command: dispatch.action.value }
      : {
          kind: 'named',
          name: dispatch.action.value ?? '',
          params: new Map(Object.entries(dispatch.params)),
        };
  return {
    ok: true,
    task: {
      taskId,
      action,
      timeoutMs:
        dispatch.timeoutSeconds === 0
          ? taskLimits.defaultTimeoutMs
          : Math.min(dispatch.timeoutSeconds * 1000, taskLimits.maxTimeoutMs),
      nice: dispatch.nice,
      dryRun: dispatch.dryRun,
      traceparent,
      force: dispatch.force,
    },
  };
}
