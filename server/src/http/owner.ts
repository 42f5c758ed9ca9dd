// Anonymous ownership: each browser (or script keeping its cookie jar) gets a random owner
// id in a signed, HttpOnly, SameSite=Lax cookie. Jobs and images belong to that id. A client
// that drops the cookie gets a new owner each time, so new owners are counted per client
// address: a cookie-less flood is refused like any other flood.
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { ClientLimits } from '../jobs/client-limits';
import { signedCookie } from './signed-cookies';

export const OWNER_COOKIE = 'mj_owner';
const OWNER_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

const owners = new WeakMap<Request, string>();

/** The owner the request's cookie names, when its signature and form hold. */
export function ownerFromCookie(req: Request): string | undefined {
  const signed = signedCookie(req, OWNER_COOKIE);
  return signed !== undefined && OWNER_PATTERN.test(signed) ? signed : undefined;
}

export const newOwnerId = (): string => randomBytes(18).toString('base64url');

/** Needs signedCookies(secret, [OWNER_COOKIE, …]) before it; an owner set by access control wins. */
export function assignOwner(limits: ClientLimits): RequestHandler {
  return async (req, res, next) => {
    if (owners.has(req)) {
      next();
      return;
    }
    let owner = ownerFromCookie(req);
    if (!owner) {
      await limits.admitNewOwner(clientAddress(req));
      owner = newOwnerId();
      res.cookie(OWNER_COOKIE, owner, {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure: req.secure,
        path: '/',
        maxAge: ONE_YEAR_MS,
      });
    }
    owners.set(req, owner);
    next();
  };
}

export function ownerOf(req: Request): string {
  const owner = owners.get(req);
  if (!owner) throw new Error('assignOwner must run before any route that needs the owner');
  return owner;
}

/** A bearer-token client, or a signed-in session, is one owner, whatever cookies it keeps. */
export function setOwner(req: Request, owner: string): void {
  owners.set(req, owner);
}

/** The client's address (the proxy's client address when TRUST_PROXY says so). */
export const clientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
