/**
 * Where the one-time admin bootstrap secret goes. Never into the JSON log: logs are shipped, indexed and
 * kept. It is written to `<data-dir>/admin-bootstrap.secret` (mode 0600, readable only by the server's
 * user), which serves an operator under systemd or in a container as well as one at a terminal; the
 * start-up banner prints the secret itself only when standard output is a terminal, and otherwise
 * names the file. The log line says that setup is pending and where the file is.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/index.ts';
import { writePrivateFile } from '../core/fs-secure.ts';

export const adminBootstrapFileName = 'admin-bootstrap.secret';

export interface AdminBootstrapNotice {
  /** The secret, for the terminal banner only. */
  readonly secret: string;
  readonly file: string;
}

/**
 * Publishes a freshly minted secret (its file, a log line without it), or removes a leftover file once
 * an admin exists and no secret is pending.
 */
export function publishAdminBootstrap(
  dataDir: string,
  minted: { readonly secret: string } | undefined,
  log: Logger,
): AdminBootstrapNotice | undefined {
  const file = join(dataDir, adminBootstrapFileName);
  if (minted === undefined) {
    rmSync(file, { force: true });
    return undefined;
  }
  writePrivateFile(file, `${minted.secret}\n`);
  log.warn(
    'admin bootstrap secret: no admin exists yet; create one in the web UI at /setup with the one-time secret in the file named here',
    { file },
  );
  return { secret: minted.secret, file };
}

/** The banner's lines about the first admin: the secret on a terminal, its file otherwise. */
export function firstAdminBannerLines(
  notice: AdminBootstrapNotice | undefined,
  setupUrl: string,
  onTerminal: boolean,
): string[] {
  if (notice === undefined) return [];
  const secretLines = onTerminal
    ? [
        `  first admin: none exists yet. Open ${setupUrl} and enter this one-time secret:`,
        `               ${notice.secret}`,
      ]
    : [
        `  first admin: none exists yet. Open ${setupUrl} and enter the one-time secret from`,
        `               ${notice.file}  (readable by the server's user only)`,
      ];
  return [
    ...secretLines,
    '               (on this host, "vigocli webusers create --role admin" works as local admin too)',
  ];
}
