/**
 * Check-in processes (checkin.workers): agent connections terminated on every core, every call answered
 * by the server process.
 */
export { startCheckinFronts } from './pool.ts';
export type { CheckinFronts, CheckinFrontsOptions } from './pool.ts';
