/**
 * GET /static/{name}: the UI's stylesheet, script and icon, and htmx from node_modules (no CDN). Each file is
 * read once at start-up and served from memory; pages link it as `/static/<name>?v=<content hash>`, so
 * browsers may keep it for a year and still fetch a new copy the moment the content changes.
 * GET /favicon.ico answers with the icon too, for pages (and tools) that do not link it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VigoError } from '../server/core/index.ts';
import type { AnyRoute } from '../server/http/route-table.ts';
import { route } from '../server/http/route-table.ts';
import { pathParam } from './page-kit.ts';

export type AssetName = 'app.css' | 'app.js' | 'htmx.min.js' | 'favicon.svg';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly hash: string;
}

export interface StaticAssets {
  /** The versioned URL a page links for this asset. */
  url(name: AssetName): string;
  routes(): AnyRoute[];
}

const staticDir = join(import.meta.dirname, 'static');

function sourceOf(name: AssetName): string {
  if (name === 'htmx.min.js') return createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');
  return join(staticDir, name);
}

function load(name: AssetName): Asset {
  const body = readFileSync(sourceOf(name));
  const type = name.endsWith('.css')
    ? 'text/css; charset=utf-8'
    : name.endsWith('.svg')
      ? 'image/svg+xml'
      : 'text/javascript; charset=utf-8';
  return { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
}

const names: readonly AssetName[] = ['app.css', 'app.js', 'htmx.min.js', 'favicon.svg'];
const query = { v: { type: 'string', maxLength: 64, description: 'content hash (cache busting)' } } as const;

/** Reads every asset now, so a missing file fails at start-up rather than on the first page view. */
export function loadStaticAssets(): StaticAssets {
  const assets = new Map<string, Asset>(names.map((name) => [name, load(name)]));
  return {
    url(name) {
      const asset = assets.get(name);
      return `/static/${name}?v=${asset?.hash ?? ''}`;
    },
    routes: () => [
      route<Record<never, never>, typeof query>({
        method: 'GET',
        path: '/static/{name}',
        summary: 'Web UI assets (stylesheet, script, htmx, icon)',
        tag: 'web',
        access: 'public',
        hidden: true,
        produces: 'text/javascript',
        query,
        handler: ({ c, query: q }) => {
          const asset = assets.get(pathParam(c, 'name'));
          if (asset === undefined)
            throw new VigoError('not_found', `no static file named ${pathParam(c, 'name')}`);
          const cache =
            q.v === asset.hash
              ? 'public, max-age=31536000, immutable'
              : 'public, max-age=60, must-revalidate';
          return c.body(new Uint8Array(asset.body), 200, {
            'Content-Type': asset.type,
            'Cache-Control': cache,
          });
        },
      }),
      route({
        method: 'GET',
        path: '/favicon.ico',
        summary: 'The web UI icon at the address browsers try by default',
        tag: 'web',
        access: 'public',
        hidden: true,
        produces: 'image/svg+xml',
        handler: ({ c }) => {
          const icon = assets.get('favicon.svg');
          if (icon === undefined) throw new VigoError('not_found', 'no icon');
          return c.body(new Uint8Array(icon.body), 200, {
            'Content-Type': icon.type,
            'Cache-Control': 'public, max-age=86400',
          });
        },
      }),
    ],
  };
}
