/**
 * Event ids are `<bootTag>-<seq>`: a tag unique to one bus instance (one server boot) and a decimal
 * sequence number from 1. The ring of retained events lives in memory and starts empty at every boot, so
 * an id carrying any other boot tag is by construction older than everything retained: the stream answers
 * it with a `stream.gap` event instead of guessing.
 *
 * Why not one number (`bootStartMs * 1000 + seq`): it collides with the next boot's range once a boot has
 * published more than 1000 events per millisecond of uptime before the restart, and it breaks when the
 * clock steps back between boots. The two-part id needs neither assumption; ordering across boots is never
 * needed because only the current boot's events can be replayed.
 */
import { randomBytes } from 'node:crypto';

const eventIdPattern = /^([0-9a-z]{1,32})-(0|[1-9][0-9]{0,15})$/;

/** Boot start time in base 36 (readable, roughly sortable) plus 24 random bits (two boots in one millisecond). */
export function createBootTag(nowMs: number): string {
  const random = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(5, '0');
  return `${Math.max(0, Math.floor(nowMs)).toString(36)}${random}`;
}

export function formatEventId(bootTag: string, seq: number): string {
  return `${bootTag}-${seq}`;
}

export interface ParsedEventId {
  bootTag: string;
  seq: number;
}

/** Undefined when the text is not an id this server could have issued. */
export function parseEventId(text: string): ParsedEventId | undefined {
  const match = eventIdPattern.exec(text);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { bootTag: match[1] ?? '', seq };
}
