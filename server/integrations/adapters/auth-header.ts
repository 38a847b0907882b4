/** The Authorization header of an HTTP sink's credential, read from the vault at each request. */
import type { HttpAuth } from '../target-options.ts';
import type { AdapterContext } from './types.ts';

export function authHeaders(auth: HttpAuth, ctx: AdapterContext): Record<string, string> {
  switch (auth.kind) {
    case 'none':
      return {};
    case 'basic': {
      const pair = `${auth.username}:${ctx.secret(auth.password)}`;
      return { authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` };
    }
    case 'bearer':
      return { authorization: `Bearer ${ctx.secret(auth.token)}` };
    case 'api_key':
      return { authorization: `ApiKey ${ctx.secret(auth.apiKey)}` };
  }
}
