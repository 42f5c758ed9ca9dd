// DNS rebinding defence: a page on an attacker's domain whose name is made to resolve to this
// server would otherwise be "same-origin" with it (its Host and Origin agree). Only the names
// this server is known by are answered: loopback names, the host of PUBLIC_URL, the address it
// listens on when that is a specific one, and ALLOWED_HOSTS. Anything else gets 421 before
// any route runs.
import type { RequestHandler } from 'express';
import { AppError } from '../errors';

export interface HostAllowListOptions {
  /** ALLOWED_HOSTS: names (`studio.example`), names with a port (`studio.example:8443`), or `*` for any. */
  allowedHosts: readonly string[];
  publicUrl?: string | undefined;
  /** The address the server listens on (HOST). */
  listenHost: string;
}

const LOOPBACK_NAMES = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

/** `name` or `name:port` of a Host header, lower-cased; IPv6 literals keep their brackets. */
function splitHost(host: string): { name: string; port: string | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  return { name: match?.[1] ?? '', port: match?.[2] };
}

export function hostAllowList(options: HostAllowListOptions): RequestHandler {
  const entries = [...options.allowedHosts];
  if (options.publicUrl) entries.push(new URL(options.publicUrl).host);
  const listen =
    options.listenHost.includes(':') && !options.listenHost.startsWith('[')
      ? `[${options.listenHost}]`
      : options.listenHost;
  if (!UNSPECIFIED.has(listen)) entries.push(listen);
  const anyHost = entries.includes('*');
  const allowed = entries.filter((entry) => entry !== '*').map(splitHost);

  const accepts = (host: string): boolean => {
    const { name, port } = splitHost(host);
    if (!name) return false;
    if (anyHost || LOOPBACK_NAMES.test(name)) return true;
    return allowed.some((entry) => entry.name === name && (entry.port === undefined || entry.port === port));
  };

  return (req, _res, next) => {
    // Behind a trusted proxy (TRUST_PROXY), req.host is the name the client asked the proxy for.
    const host = req.host ?? '';
    if (!accepts(host)) {
      throw new AppError(
        421,
        'misdirected',
        'This server does not answer to that host name; its operator can add it to ALLOWED_HOSTS',
      );
    }
    next();
  };
}
