// One gate for both of the simulator's protocols: the key, read from wherever the protocol
// carries it and compared in constant time, then the shared per-key rate limit.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { SimulatorEngine } from './engine';

export interface KeyAuthOptions {
  /** The header that carries the key: `authorization` (v7) or `mj-api-secret` (relay). */
  header: string;
  /** What precedes the key in that header, e.g. `Bearer `. */
  prefix?: string;
  /** The bodies of the refusals, in the protocol's own wording. */
  unauthorized: object;
  rateLimited: object;
}

export function keyAuth(engine: SimulatorEngine, options: KeyAuthOptions) {
  const { apiKey } = engine.config;
  const expected = Buffer.from(`${options.prefix ?? ''}${apiKey}`);
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = Buffer.from(req.get(options.header) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(401).json(options.unauthorized);
      return;
    }
    const verdict = engine.takeRateToken(apiKey);
    if (!verdict.ok) {
      res.set('Retry-After', String(verdict.retryAfterS)).status(429).json(options.rateLimited);
      return;
    }
    next();
  };
}
