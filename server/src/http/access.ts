// Access control for a server holding a paid key. With ACCESS_TOKEN set, every /api route
// (images included) needs either `Authorization: Bearer <token>` (an API client: one owner),
// `Authorization: Bearer <API key>` (a key made in the studio: the key's own owner, with or
// without ACCESS_TOKEN) or the session cookie a browser gets by signing in with the token (a
// server-side session: one owner, ended by signing out or by a new token). Comparisons are
// constant-time; wrong tokens and keys, by header or by sign-in, are counted per address and
// refused for a while past a limit (right ones are not counted); cookie-authenticated
// state-changing requests must come from our own origin.
import { createHash, timingSafeEqual } from 'node:crypto';
import { API_KEY_PREFIX } from '@shared/schemas/api-key';
import { type SessionState, signInSchema } from '@shared/schemas/session';
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { ApiKeyVerdict } from '../access/api-key-service';
import type { SessionService } from '../access/session-service';
import { tokenOwnerId } from '../access/token-owner';
import { AppError } from '../errors';
import { type LimiterFactory, memoryLimiters, RateLimiterRes } from '../rate-limiter';
import { clientAddress, ownerFromCookie, setOwner } from './owner';
import { signedCookie } from './signed-cookies';
import { parseOrThrow } from './validate';

export const SESSION_COOKIE = 'mj_session';

const digest = (value: string) => createHash('sha256').update(value).digest();
/** Constant-time, and independent of the lengths (both sides are hashed first). */
export const tokensMatch = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

export interface AccessOptions {
  token: string | undefined;
  sessions: SessionService;
  /** Wrong tokens allowed per address in 15 minutes (sign-in and bearer alike). */
  signInAttempts?: number;
  /** Where wrong guesses are counted (memory unless several instances share them). */
  limiters?: LimiterFactory;
  /** Moves an owner's jobs, uploads and API keys to another (a browser's history, at sign-in). */
  adopt?: (from: string, to: string) => void;
  /** Judges a secret as one of our API keys (and marks the request as the key's when it is live). */
  apiKey?: (req: Request, secret: string) => ApiKeyVerdict;
}

const FAILURE_WINDOW_S = 15 * 60;

/**
 * Requests whose bearer the guard judged and accepted (the token, or a live key): only those
 * are scripts, exempt from the cross-site check. A bearer the guard let pass as no credential
 * (without ACCESS_TOKEN, one not written as a key) leaves the cookie's owner acting, so its
 * request is a browser's like any other.
 */
const verifiedBearer = new WeakSet<Request>();

/**
 * `guard` runs before every /api route; `sessionRoutes` adds GET, POST and DELETE /session;
 * `checkSecret` judges a secret another face presents (the relay protocol's), counting wrong
 * ones against the same per-address limit as sign-ins.
 */
export function accessRoutes(options: AccessOptions): {
  guard: RequestHandler;
  sessionRoutes: (router: Router) => void;
  checkSecret: (req: Request, secret: string, keys: (secret: string) => ApiKeyVerdict) => Promise<string>;
} {
  const { token, sessions } = options;
  const allowed = options.signInAttempts ?? 10;
  const failures = (options.limiters ?? memoryLimiters)('wrong-secrets-by-address', allowed, FAILURE_WINDOW_S);

  const tooMany = (msBeforeNext: number) => {
    const retryAfterS = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new AppError(
      429,
      'rate_limited',
      `Too many wrong access tokens or API keys from this address; try again in ${retryAfterS} s`,
      {
        retryAfterS,
      },
    );
  };
  /** Refuses an address that has used up its wrong guesses, before its token is even looked at. */
  const refuseIfBlocked = async (req: Request) => {
    const state = await failures.get(clientAddress(req));
    if (state && state.consumedPoints >= allowed) throw tooMany(state.msBeforeNext);
  };
  /** Counts one wrong token; answers the 401 to throw (or a 429 once over the limit). */
  const wrongToken = async (req: Request, message: string): Promise<AppError> => {
    try {
      await failures.consume(clientAddress(req));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return tooMany(rejection.msBeforeNext);
    }
    return new AppError(401, 'unauthorized', message);
  };
  const sessionOwner = (req: Request): string | undefined => {
    const id = signedCookie(req, SESSION_COOKIE);
    return id === undefined ? undefined : sessions.ownerOf(id);
  };

  /**
   * The access token's owner, or the owner of the live API key the secret is; else a 401. Only
   * a secret we do not know counts as a wrong guess: a revoked key was real, and a script still
   * polling with it must not lock everyone at its address out.
   */
  const judge = async (
    req: Request,
    secret: string,
    keys: (secret: string) => ApiKeyVerdict,
    wrong: string,
  ): Promise<string> => {
    await refuseIfBlocked(req);
    if (token && tokensMatch(secret, token)) return tokenOwnerId(token);
    const verdict = keys(secret);
    if (verdict.status === 'live') return verdict.owner;
    if (verdict.status === 'revoked') throw new AppError(401, 'unauthorized', 'This API key was revoked');
    throw await wrongToken(req, wrong);
  };
  const checkSecret = (req: Request, secret: string, keys: (secret: string) => ApiKeyVerdict) =>
    judge(req, secret, keys, 'Invalid mj-api-secret');

  /** The access token, or one of our API keys (a revoked one fails here, at once). */
  const checkBearer = async (req: Request, bearer: string) => {
    const key = (secret: string): ApiKeyVerdict =>
      (secret.startsWith(API_KEY_PREFIX) ? options.apiKey?.(req, secret) : undefined) ?? { status: 'unknown' };
    const wrong = token ? 'The access token or API key is not valid' : 'The API key is not one this server made';
    setOwner(req, await judge(req, bearer, key, wrong));
    verifiedBearer.add(req);
  };

  // Synchronous unless a bearer token must be judged: most requests are polls. Without an access
  // token, only a bearer written as one of our keys is judged; any other is no credential (the
  // cookie's owner stands), as before keys existed.
  const guard: RequestHandler = (req, _res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bearer !== undefined && (token || bearer.startsWith(API_KEY_PREFIX))) {
      return checkBearer(req, bearer).then(() => next());
    }
    if (!token) return next();
    const owner = sessionOwner(req);
    if (owner !== undefined) setOwner(req, owner);
    else if (req.path !== '/session') throw new AppError(401, 'unauthorized', 'Sign in with the access token first');
    next();
  };

  const sessionRoutes = (router: Router) => {
    router.get('/session', (req, res) => {
      const signedIn = !token || sessionOwner(req) !== undefined || /^Bearer\s/i.test(req.get('authorization') ?? '');
      const state: SessionState = { required: Boolean(token), signed_in: signedIn };
      res.set('Cache-Control', 'no-store').json(state);
    });

    router.post('/session', express.json({ limit: '2kb' }), async (req, res) => {
      if (!token) throw new AppError(404, 'not_found', 'This server needs no sign-in');
      await refuseIfBlocked(req);
      const input = parseOrThrow(signInSchema, req.body, 'request body');
      if (!tokensMatch(input.token, token)) throw await wrongToken(req, 'That access token is not right');
      // One studio per token: a signed-in browser is the token's owner, as its scripts and
      // relay clients are, so each sees what the others made. What this browser made before
      // (as its cookie's owner) comes along.
      const owner = tokenOwnerId(token);
      const earlier = ownerFromCookie(req);
      if (earlier && earlier !== owner) options.adopt?.(earlier, owner);
      const session = sessions.open(owner);
      res.cookie(SESSION_COOKIE, session.id, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: '/',
        maxAge: session.maxAgeMs,
      });
      res.status(204).end();
    });

    router.delete('/session', (req, res) => {
      const id = signedCookie(req, SESSION_COOKIE);
      if (id !== undefined) sessions.close(id);
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.status(204).end();
    });
  };
  return { guard, sessionRoutes, checkSecret };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery: a browser's state-changing request must come from our own
 * origin (or an allow-listed one). Browsers send Origin on cross-site POST/DELETE and
 * Sec-Fetch-Site everywhere modern; scripts whose bearer the guard accepted are not browsers
 * (a bearer it ignored is no exemption: the cookie still acts). The Host it is compared with
 * has passed the Host allow-list first (http/host-allow-list.ts).
 */
export function sameOriginGuard(allowedOrigins: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || verifiedBearer.has(req)) return next();
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
