// Which requests an API key authenticated (the /mj routes' auth marks them): such a request
// may use its own key's jobs, never manage keys, so a leaked key cannot make itself more.
import type { Request } from 'express';

const byApiKey = new WeakSet<Request>();

export function markApiKeyRequest(req: Request): void {
  byApiKey.add(req);
}

export function isApiKeyRequest(req: Request): boolean {
  return byApiKey.has(req);
}
