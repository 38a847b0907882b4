/**
 * Parsing JSON request bodies at the boundary with the rules of core/body-rules.ts: the body must be a
 * JSON object whose fields are all declared, of the declared type and within bounds.
 */
import type { Context } from 'hono';
import { VigoError, parseJsonBody } from '../core/index.ts';
import type { BodyOf, BodyRules } from '../core/index.ts';

export type { BodyOf, BodyRules, FieldRule, UploadedFile } from '../core/index.ts';

function assertJsonContentType(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new VigoError(
      'request.invalid',
      `send the body as JSON with "Content-Type: application/json" (got ${JSON.stringify(type)})`,
    );
  }
}

/**
 * Reads the request body as JSON and checks it against `rules`. Requires a JSON content type: an HTML
 * form cannot send one cross-site, so no endpoint can be driven by a forged form post.
 */
export async function readJsonBody<S extends BodyRules>(c: Context, rules: S): Promise<BodyOf<S>> {
  assertJsonContentType(c);
  return parseJsonBody(await c.req.text(), rules);
}

/**
 * The JSON body's bytes, neither decoded nor parsed: for bodies as large as a stacks upload, which are
 * parsed off the thread that answers check-ins. Same content-type rule and same bounds as readJsonBody.
 */
export async function readRawJsonBody(c: Context): Promise<Buffer> {
  assertJsonContentType(c);
  return Buffer.from(await c.req.arrayBuffer());
}
