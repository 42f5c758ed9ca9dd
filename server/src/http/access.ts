// Access control for a server holding a paid key. With ACCESS_TOKEN set, every /api route
// (images included) needs either `Authorization: Bearer <token>` (an API client: one owner)
// or the signed session cookie a browser gets by signing in with the token. Comparisons are
// constant-time; sign-in attempts are rate-limited per address; cookie-authenticated
// state-changing requests must come from our own origin.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type SessionState, signInSchema } from '@shared/schemas/session';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors';
import { setOwner } from './owner';
import { signedCookie } from './signed-cookies';
import { parseOrThrow } from './validate';

export const SESSION_COOKIE = 'mj_session';
const SESSION_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

const digest = (value: string) => createHash('sha256').update(value).digest();
/** Constant-time, and independent of the lengths (both sides are hashed first). */
export const tokensMatch = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

export interface AccessOptions {
  token: string | undefined;
  /** Origins allowed besides our own (the CORS allow-list). */
  allowedOrigins: readonly string[];
  /** Sign-in attempts allowed per address in 15 minutes. */
  signInAttempts?: number;
}

function hasSession(req: Request): boolean {
  return signedCookie(req, SESSION_COOKIE)?.startsWith('v1.') === true;
}

/** `guard` runs before every /api route; `sessionRoutes` adds GET, POST and DELETE /session. */
export function accessRoutes(options: AccessOptions): {
  guard: RequestHandler;
  sessionRoutes: (router: Router) => void;
} {
  const { token } = options;
  const attempts = new RateLimiterMemory({
    points: options.signInAttempts ?? 10,
    duration: 15 * 60,
  });

  const guard: RequestHandler = (req, _res, next) => {
    if (!token) return next();
    const header = req.get('authorization') ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    if (bearer !== undefined) {
      if (!tokensMatch(bearer, token)) throw new AppError(401, 'unauthorized', 'The access token is not valid');
      setOwner(req, `api-${digest(`owner:${token}`).toString('hex').slice(0, 32)}`);
      return next();
    }
    if (req.path === '/session') return next();
    if (!hasSession(req)) throw new AppError(401, 'unauthorized', 'Sign in with the access token first');
    next();
  };

  const sessionRoutes = (session: Router) => {
    session.get('/session', (req, res) => {
      const state: SessionState = { required: Boolean(token), signed_in: !token || hasSession(req) };
      res.set('Cache-Control', 'no-store').json(state);
    });
    session.post('/session', express.json({ limit: '2kb' }), async (req, res) => {
      if (!token) throw new AppError(404, 'not_found', 'This server needs no sign-in');
      try {
        await attempts.consume(req.ip ?? 'unknown');
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterS = Math.ceil(rejection.msBeforeNext / 1000);
        throw new AppError(429, 'rate_limited', `Too many sign-in attempts; try again in ${retryAfterS} s`, {
          retryAfterS,
        });
      }
      const input = parseOrThrow(signInSchema, req.body, 'request body');
      if (!tokensMatch(input.token, token)) throw new AppError(401, 'unauthorized', 'That access token is not right');
      res.cookie(SESSION_COOKIE, `v1.${Date.now()}`, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: '/',
        maxAge: SESSION_MAX_AGE_MS,
      });
      res.status(204).end();
    });
    session.delete('/session', (_req, res) => {
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.status(204).end();
    });
  };
  return { guard, sessionRoutes };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery: a browser's state-changing request must come from our own
 * origin (or an allow-listed one). Browsers send Origin on cross-site POST/DELETE and
 * Sec-Fetch-Site everywhere modern; scripts using a bearer token are not browsers.
 */
export function sameOriginGuard(allowedOrigins: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || /^Bearer\s/i.test(req.get('authorization') ?? '')) return next();
    const site = req.get('sec-fetch-site');
    const origin = req.get('origin');
    const ours = `${req.protocol}://${req.get('host')}`;
    const originOk = !origin || origin === ours || allowedOrigins.includes(origin);
    const siteOk =
      !site || site === 'same-origin' || site === 'none' || (origin !== undefined && allowedOrigins.includes(origin));
    if (!originOk || !siteOk) throw new AppError(403, 'forbidden', 'Cross-site requests are not allowed');
    next();
  };
}
