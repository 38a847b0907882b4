/** What a connection is counted against: its address, or the /64 of an IPv6 address (one host usually holds a whole /64). */
import { rateLimitKey } from '../enroll/index.ts';

export function addressKey(address: string | undefined): string {
  return address === undefined ? 'unknown' : rateLimitKey(address);
}
