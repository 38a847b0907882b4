/**
 * POST /api/v1/backups: a backup of the running server, streamed to the caller (admin only, audited).
 * The archive is written on the backup thread into a private file on the data dir's file system, then
 * streamed and deleted; the one backup slot is held until the stream ends, so a second request meanwhile
 * is refused (`backup.in_progress`). Encryption, when wanted, is the client's (vigocli encrypts before
 * the archive reaches its disk), so a passphrase never travels to the server.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { actorName } from '../../core/index.ts';
import { appendAudit } from '../../audit/index.ts';
import type { BackupService } from '../../backup/index.ts';
import { backupFileName } from '../../backup/index.ts';
import type { Store } from '../../store/index.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

/** Streams `file` and calls `done` once, when it was read to the end, failed, or the client went away. */
function fileStream(file: string, done: () => void): ReadableStream<Uint8Array> {
  const source = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done === true) {
          controller.close();
          done();
        } else
          controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
      } catch (err) {
        controller.error(err);
        done();
      }
    },
    cancel() {
      source.destroy();
      done();
    },
  });
}

export function backupRoutes(deps: { store: Store; backups: BackupService }): AnyRoute[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/backups',
      summary:
        'Back up the running server: a tar.gz of a database snapshot, tls/, secrets/, server.yaml and the active stacks, with a manifest of SHA-256 sums (one backup at a time)',
      tag: 'backups',
      access: 'admin',
      errors: ['backup.in_progress', 'backup.failed', 'backup.too_large'],
      produces: 'application/gzip',
      handler: async ({ c, ctx }) => {
        const slot = deps.backups.begin();
        const file = path.join(deps.backups.scratchDir, `stream-${randomUUID()}.tar.gz`);
        let finished = false;
        const done = (): void => {
          if (finished) return;
          finished = true;
          fs.rmSync(file, { force: true });
          slot.release();
        };
        try {
          const result = await slot.create(file, undefined);
          const { manifest } = result;
          deps.store.tx((db) =>
            appendAudit(db, {
              actor: actorName(ctx.actor),
              action: 'backup.created',
              target: 'database',
              details: {
                to: 'client',
                bytes: result.bytes,
                members: manifest.members.length,
                configVersion: manifest.configVersion,
                schemaVersion: manifest.schemaVersion,
              },
            }),
          );
          const summary = {
            createdAt: manifest.createdAt,
            serverVersion: manifest.serverVersion,
            configVersion: manifest.configVersion,
            schemaVersion: manifest.schemaVersion,
            members: manifest.members.length,
            bytes: result.bytes,
            ms: Math.round(result.ms),
          };
          return c.body(fileStream(file, done), 200, {
            'content-type': 'application/gzip',
            'content-length': String(result.bytes),
            'content-disposition': `attachment; filename="${backupFileName(new Date(manifest.createdAt), false)}"`,
            'x-vigo-backup': JSON.stringify(summary),
          });
        } catch (err) {
          done();
          throw err;
        }
      },
    }),
  ];
}
