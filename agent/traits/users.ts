/**
 * users {accounts: [{name, uid, gid, home, shell}], human: [names]} from the local account database
 * (/etc/passwd; directory-service accounts are not listed). `users.human` is Vigo's trait path for
 * people who can log in: a uid in the login.defs UID_MIN..UID_MAX range and a real login shell.
 */
import { join } from 'node:path';
import { readTextOrNull, readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

const noLoginShell = /(^$|\/(nologin|false|sync|shutdown|halt)$)/;

export function parsePasswd(text: string): Account[] {
  const accounts: Account[] = [];
  for (const line of text.split('\n')) {
    // "+"/"-" lines pull in NIS entries; they name no local account.
    if (line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    if (fields.length < 7 || fields[0] === '') continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || fields[2] === '' || fields[3] === '')
      continue;
    accounts.push({ name: fields[0]!, uid, gid, home: fields[5]!, shell: fields[6]!.trim() });
  }
  return accounts;
}

/** UID_MIN and UID_MAX from login.defs, with the shadow-utils defaults when unset. */
export function humanUidRange(loginDefs: string | null): { min: number; max: number } {
  const value = (key: string, fallback: number): number => {
    const match = new RegExp(`^\\s*${key}\\s+(\\d+)\\s*$`, 'm').exec(loginDefs ?? '');
    return match ? Number(match[1]) : fallback;
  };
  return { min: value('UID_MIN', 1000), max: value('UID_MAX', 60000) };
}

export const usersCollector: TraitCollector = {
  name: 'users',
  // Vigo collects users every cycle: a new account should be seen at the next check-in.
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const accounts = parsePasswd(await readTextRequired(join(env.etcRoot, 'passwd'), 'the local accounts'));
    const range = humanUidRange(await readTextOrNull(join(env.etcRoot, 'login.defs')));
    const human = accounts
      .filter((a) => a.uid >= range.min && a.uid <= range.max && !noLoginShell.test(a.shell))
      .map((a) => a.name);
    return { users: { accounts, human } };
  },
};
