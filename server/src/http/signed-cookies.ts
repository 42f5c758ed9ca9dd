// Reads the signed cookies (the owner and the session) that res.cookie({ signed: true }) wrote:
// `s:<value>.<base64 HMAC-SHA256 of value>`, checked in constant time. A browser polls every
// second or two with the same cookies, so each verified cookie is remembered (bounded): the
// HMAC is computed once per cookie, not once per request. Only verified values are kept, and
// the key is the whole cookie as sent, so nothing unverified is ever answered from memory.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

declare module 'http' {
  interface IncomingMessage {
    /** Where res.cookie({ signed: true }) finds the secret to sign with. */
    secret?: string;
    /** The verified values of this request's signed cookies, by name. */
    signedValues?: Readonly<Record<string, string>>;
  }
}

const REMEMBERED = 10_000;
const MAX_REMEMBERED_HEADER = 1_024;

export function signedCookies(secret: string, names: readonly string[]): RequestHandler {
  const verified = new Map<string, string>();
  const unsign = (raw: string): string | undefined => {
    const known = verified.get(raw);
    if (known !== undefined) return known;
    let signed: string;
    try {
      signed = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    const dot = signed.lastIndexOf('.');
    if (!signed.startsWith('s:') || dot < 2) return undefined;
    const value = signed.slice(2, dot);
    const given = Buffer.from(signed.slice(dot + 1));
    const expected = Buffer.from(createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (verified.size >= REMEMBERED) verified.delete(verified.keys().next().value ?? '');
    verified.set(raw, value);
    return value;
  };
  const read = (header: string): Readonly<Record<string, string>> => {
    const found: Record<string, string> = {};
    for (const part of header.split(';')) {
      const equals = part.indexOf('=');
      if (equals < 0) continue;
      const name = part.slice(0, equals).trim();
      if (!names.includes(name) || Object.hasOwn(found, name)) continue;
      let raw = part.slice(equals + 1).trim();
      if (raw.length > 1 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
      const value = unsign(raw);
      if (value !== undefined) found[name] = value;
    }
    return Object.freeze(found);
  };
  // A tab sends the very same Cookie header with every poll: what it says is remembered too.
  const byHeader = new Map<string, Readonly<Record<string, string>>>();
  return (req, _res, next) => {
    const header = req.headers.cookie ?? '';
    let found = byHeader.get(header);
    if (!found) {
      found = read(header);
      if (header.length <= MAX_REMEMBERED_HEADER) {
        if (byHeader.size >= REMEMBERED) byHeader.delete(byHeader.keys().next().value ?? '');
        byHeader.set(header, found);
      }
    }
    req.signedValues = found;
    req.secret = secret;
    next();
  };
}

/** A signed cookie's value when its signature holds; undefined otherwise (or when absent). */
export function signedCookie(req: Request, name: string): string | undefined {
  const values = req.signedValues;
  return values && Object.hasOwn(values, name) ? values[name] : undefined;
}
