// Anonymous ownership: each browser (or script keeping its cookie jar) gets a random owner
// id in a signed, HttpOnly, SameSite=Lax cookie. Jobs and images belong to that id. A client
// that drops the cookie gets a new owner each time, so new owners are counted per client
// address: a cookie-less flood is refused like any other flood.
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import ipaddr from 'ipaddr.js';
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

export function setOwnerCookie(req: Request, res: Response, owner: string): void {
  res.cookie(OWNER_COOKIE, owner, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure,
    path: '/',
    maxAge: ONE_YEAR_MS,
  });
}

/**
 * Needs signedCookies(secret, [OWNER_COOKIE, …]) before it; an owner set by access control
 * wins. With an access token (`guarded`), owners come from sessions and bearer tokens only:
 * a request that has neither (signing in) gets no owner cookie. Synchronous unless an owner
 * must be made: most requests are polls that bring theirs.
 */
export function assignOwner(limits: ClientLimits, guarded: boolean): RequestHandler {
  const mint = async (req: Request, res: Response) => {
    await limits.admitNewOwner(clientAddress(req));
    const owner = newOwnerId();
    setOwnerCookie(req, res, owner);
    owners.set(req, owner);
  };
  return (req, res, next) => {
    if (owners.has(req)) return next();
    const owner = ownerFromCookie(req);
    if (owner) {
      owners.set(req, owner);
      return next();
    }
    if (guarded) return next();
    return mint(req, res).then(() => next());
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

/**
 * The client's address as limits count it (the proxy's client address when TRUST_PROXY says
 * so): an IPv4 address (mapped IPv6 forms unwrapped), or the /64 an IPv6 client's addresses
 * come from, since one client can rotate through a whole /64.
 */
export function clientAddress(req: Request): string {
  const raw = req.ip ?? req.socket.remoteAddress ?? '';
  if (!ipaddr.isValid(raw)) return raw || 'unknown';
  const address = ipaddr.process(raw);
  if (address.kind() === 'ipv4') return address.toString();
  return `${address.toNormalizedString().split(':').slice(0, 4).join(':')}::/64`;
}
