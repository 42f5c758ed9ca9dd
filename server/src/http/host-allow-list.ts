// DNS rebinding defence: a page on an attacker's domain whose name is made to resolve to this
// server would otherwise be "same-origin" with it (its Host and Origin agree). Only the names
// this server is known by are answered: loopback names, the host of PUBLIC_URL, the address it
// listens on when that is a specific one, and ALLOWED_HOSTS. Anything else gets 421 before
// any route but /healthz. The Host header itself is checked, never X-Forwarded-Host: a page
// can set that header on its own requests.
import type { RequestHandler } from 'express';
import { AppError } from '../errors';

export interface HostAllowListOptions {
  /** ALLOWED_HOSTS: names (`studio.example`), names with a port (`studio.example:8443`), or `*` for any. */
  allowedHosts: readonly string[];
  publicUrl?: string | undefined;
  /** The address the server listens on (HOST). */
  listenHost: string;
}

interface HostEntry {
  name: string;
  port: string | undefined;
}

const LOOPBACK_NAMES = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);
/** Browsers leave the scheme's default port out of Host: `name:443` also means `name`. */
const DEFAULT_PORTS = new Set(['80', '443']);

/**
 * `name` or `name:port`, lower-cased, one trailing dot dropped, IPv6 literals in brackets
 * (a bare `fd00::5` is taken as an address, not a name with a port). Undefined when unreadable.
 */
export function parseHost(host: string): HostEntry | undefined {
  const text = host.trim().toLowerCase();
  if (!text.startsWith('[') && (text.match(/:/g) ?? []).length > 1) return { name: `[${text}]`, port: undefined };
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::(\d{1,5}))?$/.exec(text);
  if (!match?.[1]) return undefined;
  return { name: match[1], port: match[2] };
}

/** The entries of ALLOWED_HOSTS that cannot be read, for a start-up error naming them. */
export const unreadableHosts = (entries: readonly string[]): string[] =>
  entries.filter((entry) => entry !== '*' && parseHost(entry) === undefined);

export function hostAllowList(options: HostAllowListOptions): RequestHandler {
  const entries = [...options.allowedHosts];
  if (options.publicUrl) entries.push(new URL(options.publicUrl).host);
  if (!UNSPECIFIED.has(options.listenHost)) entries.push(options.listenHost);
  const anyHost = entries.includes('*');
  const allowed = entries.flatMap((entry) => {
    const parsed = entry === '*' ? undefined : parseHost(entry);
    return parsed ? [parsed] : [];
  });
  const portMatches = (entry: HostEntry, port: string | undefined) =>
    entry.port === undefined || entry.port === port || (port === undefined && DEFAULT_PORTS.has(entry.port));

  const accepts = (host: string): boolean => {
    const asked = parseHost(host);
    if (!asked) return false;
    if (anyHost || LOOPBACK_NAMES.test(asked.name)) return true;
    return allowed.some((entry) => entry.name === asked.name && portMatches(entry, asked.port));
  };

  return (req, _res, next) => {
    if (!accepts(req.headers.host ?? '')) {
      throw new AppError(
        421,
        'misdirected',
        'This server does not answer to that host name; its operator can add it to ALLOWED_HOSTS',
      );
    }
    next();
  };
}
