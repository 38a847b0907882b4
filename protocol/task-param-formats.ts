/**
 * The shapes a string parameter of a named task (tasks.vgo) may be required to have: checked by the
 * server when a task is dispatched and again by the agent against the definition in its bundle, so both
 * must read them identically. Fixed patterns, not operator-written ones: a value is checked on the
 * serving thread, and a pattern could take exponential time on a crafted value.
 */
export const taskParamFormats = {
  /** Package, service, user and unit names: letters, digits and _ . @ : + - */
  name: /^[A-Za-z0-9_.@:+-]+$/,
  /** An absolute path. */
  path: /^\/[^\0]*$/,
  hostname:
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
} as const;

export type TaskParamFormat = keyof typeof taskParamFormats;

export function isTaskParamFormat(name: unknown): name is TaskParamFormat {
  return typeof name === 'string' && Object.hasOwn(taskParamFormats, name);
}
