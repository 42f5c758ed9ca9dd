// Anonymous ownership: each browser (or script keeping its cookie jar) gets a random owner
// id in a signed, HttpOnly, SameSite=Lax cookie. Jobs and images belong to that id.
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { signedCookie } from './signed-cookies';

export const OWNER_COOKIE = 'mj_owner';
const OWNER_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

const owners = new WeakMap<Request, string>();

/** Needs signedCookies(secret, [OWNER_COOKIE, …]) mounted before it. */
export const assignOwner: RequestHandler = (req, res, next) => {
  if (owners.has(req)) {
    next();
    return;
  }
  const signed = signedCookie(req, OWNER_COOKIE);
  let owner = signed !== undefined && OWNER_PATTERN.test(signed) ? signed : undefined;
  if (!owner) {
    owner = randomBytes(18).toString('base64url');
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

export function ownerOf(req: Request): string {
  const owner = owners.get(req);
  if (!owner) throw new Error('assignOwner must run before any route that needs the owner');
  return owner;
}

/** An API client authenticated by bearer token is one owner, whatever cookies it keeps. */
export function setOwner(req: Request, owner: string): void {
  owners.set(req, owner);
}
