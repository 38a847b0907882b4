/**
 * cert_expiry {certificates [{path, subject, issuer, serial, not_after, expired, days_left, error}]}:
 * when each certificate named in the agent config (`traits.cert_paths`) expires. A file is PEM (its
 * first certificate, the leaf of a chain) or DER, at most 1 MiB; at most 64 paths. A file that cannot
 * be read or parsed gets an entry with `error` and null fields, so the other certificates still
 * report. `days_left` changes daily, so it is volatile: the server and its `when:` see `not_after`
 * and `expired`.
 */
import { X509Certificate } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { TraitCollector, TraitEnv } from './types.ts';

import { maxCertPaths } from './settings.ts';
const maxCertBytes = 1024 * 1024;
const dayMs = 86_400_000;

interface CertEntry {
  path: string;
  subject: string | null;
  issuer: string | null;
  serial: string | null;
  not_after: string | null;
  expired: boolean | null;
  days_left: number | null;
  error: string | null;
}

async function readCertFile(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxCertBytes) throw new Error(`${size} bytes; a certificate file is at most ${maxCertBytes}`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The first certificate of a PEM file, or the file itself when it is DER. */
export function firstCertificate(data: Buffer): Buffer | string {
  const text = data.toString('latin1');
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  return match ? match[0] : data;
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ').slice(0, 512);
}

export async function certEntry(env: TraitEnv, path: string, nowMs: number): Promise<CertEntry> {
  const entry: CertEntry = {
    path,
    subject: null,
    issuer: null,
    serial: null,
    not_after: null,
    expired: null,
    days_left: null,
    error: null,
  };
  if (!isAbsolute(path)) return { ...entry, error: 'not an absolute path' };
  try {
    const cert = new X509Certificate(firstCertificate(await readCertFile(join(env.rootDir, path))));
    const notAfter = Date.parse(cert.validTo);
    if (!Number.isFinite(notAfter)) throw new Error(`unreadable expiry date ${JSON.stringify(cert.validTo)}`);
    return {
      ...entry,
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      serial: cert.serialNumber.toLowerCase(),
      not_after: new Date(notAfter).toISOString(),
      expired: notAfter <= nowMs,
      days_left: Math.floor((notAfter - nowMs) / dayMs),
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
    return { ...entry, error: message.slice(0, 300) };
  }
}

export const certExpiryCollector: TraitCollector = {
  name: 'cert_expiry',
  // Collected every run so days_left is current; only not_after and expired are hashed and sent.
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const paths = [...new Set(env.settings?.certPaths ?? [])].slice(0, maxCertPaths);
    const now = Date.now();
    return { cert_expiry: { certificates: await Promise.all(paths.map((p) => certEntry(env, p, now))) } };
  },
};
