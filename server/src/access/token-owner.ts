// The one owner every holder of ACCESS_TOKEN is (a script's bearer, a signed-in browser, a relay
// client): an id made from the token, so a new token is a new owner and the old one is nobody's.
import { createHash } from 'node:crypto';

/** `api-` and 32 hex digits: never a cookie owner's (24 base64url characters) nor a key's (`key-…`). */
const TOKEN_OWNER_PATTERN = /^api-[0-9a-f]{32}$/;

export const tokenOwnerId = (token: string): string =>
  `api-${createHash('sha256').update(`owner:${token}`).digest('hex').slice(0, 32)}`;

/** Whether an owner id is some access token's owner, this one's or an earlier one's. */
export const isTokenOwnerId = (ownerId: string): boolean => TOKEN_OWNER_PATTERN.test(ownerId);
