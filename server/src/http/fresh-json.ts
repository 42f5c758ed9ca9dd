// A JSON answer that is never cached (polls, lists, the budget), written straight to the
// response: what Express's res.json would send for it (no ETag, since it is no-store), without
// its content-type negotiation on the path every browser tab takes every second or two.
import type { Response } from 'express';

/** The text of frozen bodies (a finished job's view never changes), written once. */
const written = new WeakMap<object, string>();

export function sendFreshJson(res: Response, body: unknown): void {
  let text = typeof body === 'object' && body !== null ? written.get(body) : undefined;
  if (text === undefined) {
    text = JSON.stringify(body);
    if (typeof body === 'object' && body !== null && Object.isFrozen(body)) written.set(body, text);
  }
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
