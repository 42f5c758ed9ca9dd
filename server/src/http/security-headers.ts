// Response headers that make the served SPA and the API hard to abuse: helmet with a strict
// Content-Security-Policy for pages (the built app needs nothing inline), a fixed set for API
// answers, and CORS closed unless an origin is on the allow-list.
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers every /api answer carries (OWASP's set for REST answers): JSON is never sniffed,
 * framed, embedded by another site or allowed to load anything, and HTTPS sticks. Fixed
 * values, set in one loop: an API answer is not a page, and this is the hottest path.
 */
const API_HEADERS: readonly [string, string][] = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
];

export const apiSecurityHeaders: RequestHandler = (_req, res, next) => {
  for (const [name, value] of API_HEADERS) res.setHeader(name, value);
  next();
};

/** For the app's pages and everything else that is not /api: helmet with a strict CSP. */
export const pageSecurityHeaders: RequestHandler = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
});

/** CORS closed unless an origin is on the allow-list. */
export function corsPolicy(allowedOrigins: readonly string[]): RequestHandler {
  return cors({ origin: allowedOrigins.length > 0 ? [...allowedOrigins] : false, credentials: true });
}
