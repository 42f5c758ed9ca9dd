// One gate for all of the simulator's protocols: the key, read from wherever the protocol
// carries it and compared in constant time against each account's, then that account's
// fault if a test gave it one, then its own rate limit.
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
  const keys = [engine.config.apiKey, ...engine.config.keys.map((entry) => entry.key)].map((key) => ({
    key,
    expected: Buffer.from(`${options.prefix ?? ''}${key}`),
  }));
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = Buffer.from(req.get(options.header) ?? '');
    let apiKey: string | undefined;
    for (const { key, expected } of keys) {
      if (given.length === expected.length && timingSafeEqual(given, expected)) apiKey = key;
    }
    const fault = apiKey === undefined ? undefined : engine.faultOf(apiKey);
    if (apiKey === undefined || fault === 'refuse') {
      res.status(401).json(options.unauthorized);
      return;
    }
    // Silence: the request is never answered (the caller's time-out ends it).
    if (fault === 'silent') return;
    if (fault === '429') {
      res.set('Retry-After', '5').status(429).json(options.rateLimited);
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
