// A host-name resolver for tests that must not touch DNS: it knows only the names given (as
// IPv4 or IPv6 addresses), answers ENOTFOUND for the rest, and counts what it was asked.
import type { HostResolver } from '../../server/src/upstream/safe-fetch';

export function resolverOf(names: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const addresses = names[hostname];
    if (!addresses) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
  return Object.assign(resolve, { asked });
}
