// Who a relay-protocol request speaks for. Clients send one secret: `mj-api-secret` (any
// case), `Authorization: Bearer <key>` or a bare `Authorization: <key>`. It is the access
// token (its one owner) or a studio API key (the key's own owner). Without an access token
// (a server on loopback) no secret is needed, as for our own API: such clients share one owner.
import { API_KEY_PREFIX } from '@shared/schemas/api-key';
import type { Request } from 'express';
import { AppError } from '../errors';

/** The owner of secret-less relay clients on a server without an access token. */
export const LOCAL_RELAY_OWNER = 'relay-local-owner';

export interface RelayAuthOptions {
  /** Whether ACCESS_TOKEN is set (then every request needs a secret). */
  guarded: boolean;
  /** Judges a secret: the owner, or throws the 401 (or the 429 after too many wrong ones). */
  checkSecret: (req: Request, secret: string) => Promise<string>;
  /** Whether the request comes from this machine (the only place a secret-less client may). */
  fromLoopback: (req: Request) => boolean;
}

const unauthorized = (message: string) => new AppError(401, 'unauthorized', message);

/** The secret a relay client sent, however it sent it. */
export function relaySecret(req: Request): string | undefined {
  const header = req.get('mj-api-secret')?.trim();
  if (header) return header;
  const authorization = req.get('authorization')?.trim();
  if (authorization) return /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? authorization;
  return undefined;
}

export function relayAuthenticator(options: RelayAuthOptions): (req: Request) => Promise<string> {
  return async (req) => {
    const secret = relaySecret(req);
    // A chat web UI sends its own login token in x-ptoken when it has no secret: one of our
    // keys there is judged, anything else is no secret. Neither an absent secret nor that is a
    // guess (counted, it would lock out everyone behind one gateway's address).
    const ptoken = req.get('x-ptoken')?.trim();
    const given = secret ?? (ptoken?.startsWith(API_KEY_PREFIX) ? ptoken : undefined);
    if (options.guarded) {
      if (!given) throw unauthorized('Send the mj-api-secret');
      return options.checkSecret(req, given);
    }
    // Unguarded, a client may still carry the secret of the relay it used before: only one of
    // our keys (revoked or not) is judged, anything else is the local owner, on this machine only.
    if (given?.startsWith(API_KEY_PREFIX)) return options.checkSecret(req, given);
    if (!options.fromLoopback(req)) throw unauthorized('From another machine, send an API key as the mj-api-secret');
    return LOCAL_RELAY_OWNER;
  };
}
