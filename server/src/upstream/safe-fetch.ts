// Fetches a link the upstream handed us (a result image, a preview) so that it cannot reach
// this machine or its network: every hop's address is checked, and the connection goes to
// exactly the address that was checked (no second DNS answer to rebind between the two).
//
// Why it holds: Node connects an IP-literal host directly and any other host through the
// request's `lookup`, so an IP literal is checked before the request and a host name inside
// our lookup, which resolves once, refuses if any answer is not public, and hands the socket
// those same answers. Redirects are followed here, one hop at a time, each hop checked alike.
// postJson (a client's notifyHook) goes through the same checks, follows no redirect, trusts no
// host for being the upstream's, and keeps its sockets apart from the links' pool.
import { lookup as systemLookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Answers every address a host name resolves to (tests answer without DNS). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const answers = await systemLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** UPSTREAM_FETCH_ALLOW parsed: host names (any port), and addresses or ranges, allowed although not public. */
export interface FetchAllow {
  hosts: ReadonlySet<string>;
  ranges: readonly Cidr[];
}

/** Which addresses a request may reach: the public ones, and those `allow` lists. */
export interface AddressPolicy {
  allow: FetchAllow;
  resolve: HostResolver;
}

export interface LinkPolicy extends AddressPolicy {
  /** Whether a URL's host (with its port) is the configured upstream's own: trusted wherever it points. */
  isUpstreamHost(host: string): boolean;
}

/**
 * Why a link was not fetched, for the server log only: what a user sees must not tell a
 * refused address from a closed port, a silent one or an error page.
 */
export class LinkFailure extends Error {
  readonly reason: 'refused' | 'unreachable' | 'timeout' | 'status' | 'too_large';

  constructor(reason: LinkFailure['reason'], message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'LinkFailure';
    this.reason = reason;
  }
}

export interface LinkReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

export interface FetchLinkOptions {
  policy: LinkPolicy;
  timeoutMs: number;
  maxBytes: number;
  /** Redirects followed at most (default 3). */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// IANA's global unicast space: every other IPv6 address (IPv4-compatible ::a.b.c.d included,
// which ipaddr.js calls unicast) is not a public destination.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
// NAT64's well-known prefix: a public IPv4 address in the last 32 bits, judged as that address.
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

// Our own pool, keyed by host and port: every socket in it went to an address that host and
// port were allowed to reach, and that right never shrinks, so reusing one skips no check.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 5_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 5_000 }),
};
// Hooks are judged by another policy (no upstream trust, their own allow list), so they must not
// ride a socket the links' pool opened, nor leave one in it; and without keep-alive every
// delivery resolves and is checked anew, so a host whose DNS turned private is refused.
const hookAgents = {
  'http:': new http.Agent({ keepAlive: false }),
  'https:': new https.Agent({ keepAlive: false }),
};

/**
 * GETs a link the upstream supplied, following at most `maxRedirects` redirects, each hop
 * checked; answers a 2xx reply read within `maxBytes`, or throws a LinkFailure.
 */
export async function fetchLink(link: string, options: FetchLinkOptions): Promise<LinkReply> {
  const { policy, maxBytes, maxRedirects = 3 } = options;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = parseLink(link);
  for (let redirects = 0; ; redirects += 1) {
    const response = await open(url, linkHop(url), policy, isTrustedLink(url, policy), signal, options.timeoutMs);
    const { statusCode: status = 0, headers } = response;
    if (REDIRECTS.has(status) && headers.location) {
      response.destroy();
      if (redirects >= maxRedirects) throw new LinkFailure('refused', `more than ${maxRedirects} redirects`);
      url = parseLink(headers.location, url);
      continue;
    }
    if (status < 200 || status >= 300) {
      response.destroy();
      throw new LinkFailure('status', `${url.origin} answered HTTP ${status}`);
    }
    const body = await readBounded(response, maxBytes, signal, options.timeoutMs);
    return { status, headers, body };
  }
}

function parseLink(link: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(link, base);
  } catch (error) {
    throw new LinkFailure('refused', 'the link is not a URL', { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LinkFailure('refused', `the link's scheme ${url.protocol} is not http(s)`);
  }
  return url;
}

export interface PostJsonOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  /** Reply bytes read at most; the rest is dropped unread (default 4 KiB). */
  maxReplyBytes?: number;
  /** Ends the attempt early (a shutdown, or the caller's own clock); it then fails as a time-out. */
  signal?: AbortSignal;
}

const REPLY_MAX_BYTES = 4 * 1024;

/**
 * POSTs JSON text to a link a client supplied (a notifyHook) and answers the reply's status,
 * whatever it is; throws a LinkFailure for a refused address, no answer in time, or a redirect
 * (never followed: it could point anywhere, and a hook that moved is the client's to fix).
 * Nothing of ours goes along: no cookie, no key, and a link carrying credentials is refused.
 */
export async function postJson(link: string, json: string, options: PostJsonOptions): Promise<{ status: number }> {
  const { policy, timeoutMs, maxReplyBytes = REPLY_MAX_BYTES } = options;
  const url = parseLink(link);
  // Node would turn them into an Authorization header.
  if (url.username || url.password) throw new LinkFailure('refused', `the link to ${url.host} carries credentials`);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const body = Buffer.from(json);
  const hop: Hop = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': body.byteLength, 'user-agent': 'mj-studio' },
    body,
    agent: hookAgents[url.protocol === 'https:' ? 'https:' : 'http:'],
  };
  const response = await open(url, hop, policy, policy.allow.hosts.has(bareHost(url)), signal, timeoutMs);
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    response.destroy();
    throw new LinkFailure('status', `${url.origin} answered HTTP ${status}, a redirect, which is not followed`);
  }
  await discardReply(response, maxReplyBytes);
  return { status };
}

/** One request as `open` sends it. */
interface Hop {
  method: 'GET' | 'POST';
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  agent: http.Agent;
}

function linkHop(url: URL): Hop {
  return {
    method: 'GET',
    // Some CDNs refuse a request without a User-Agent; Node's own fetch sent one too.
    headers: { accept: 'image/*', 'user-agent': 'mj-studio' },
    agent: agents[url.protocol === 'https:' ? 'https:' : 'http:'],
  };
}

/** The URL's host without IPv6 brackets; URL parsing has already turned decimal, hex and short IPv4 forms into dotted quads. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

const isTrustedLink = (url: URL, policy: LinkPolicy): boolean =>
  policy.isUpstreamHost(url.host) || policy.allow.hosts.has(bareHost(url));

/** Opens one hop: the host checked before (an IP literal) or while (a name) connecting. */
function open(
  url: URL,
  hop: Hop,
  policy: AddressPolicy,
  trusted: boolean,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<IncomingMessage> {
  const hostname = bareHost(url);
  if (isIP(hostname) && !trusted) {
    const refusal = addressRefusal(hostname, policy.allow);
    if (refusal) throw new LinkFailure('refused', `${url.host} is ${refusal}`);
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method: hop.method, headers: hop.headers, agent: hop.agent, lookup: checkedLookup(policy, trusted), signal },
      resolve,
    );
    request.once('error', (error) => reject(transportFailure(error, url, signal, timeoutMs)));
    request.end(hop.body);
  });
}

/** A `lookup` that resolves once, refuses unless every answer may be reached, and connects to those answers. */
function checkedLookup(policy: AddressPolicy, trusted: boolean): LookupFunction {
  return (hostname, options, callback) => {
    policy
      .resolve(hostname)
      .then((answers) => {
        if (!trusted) {
          for (const { address } of answers) {
            const refusal = addressRefusal(address, policy.allow);
            if (refusal) throw new LinkFailure('refused', `${hostname} resolves to ${address}, ${refusal}`);
          }
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family ? answers.filter((answer) => answer.family === family) : answers;
        const first = usable[0];
        if (!first) throw new LinkFailure('unreachable', `${hostname} has no address`);
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      })
      .catch((error: unknown) => {
        callback(error instanceof Error ? error : new LinkFailure('unreachable', `${hostname} did not resolve`), '');
      });
  };
}

/**
 * Why an address must not be fetched ("loopback", "private", …), or undefined when it is
 * public or UPSTREAM_FETCH_ALLOW lists it. ipaddr.js names the special ranges (RFC 6890 and
 * successors) and unwraps IPv4-mapped IPv6, so nothing here keeps a list of its own.
 */
export function addressRefusal(
  address: string,
  allow: FetchAllow = { hosts: new Set(), ranges: [] },
): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'not an IP address';
  }
  if (allow.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits))) {
    return undefined;
  }
  if (parsed.kind() === 'ipv6' && parsed.match(NAT64)) {
    const bytes = parsed.toByteArray().slice(12);
    return addressRefusal(ipaddr.fromByteArray(bytes).toString(), allow);
  }
  const range = parsed.range();
  if (range !== 'unicast') return `a ${range} address`;
  if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) return 'outside the global unicast range';
  return undefined;
}

/** Parses UPSTREAM_FETCH_ALLOW: comma-separated host names, IP addresses and CIDR ranges. */
export function parseFetchAllow(text: string | undefined): FetchAllow {
  const hosts = new Set<string>();
  const ranges: Cidr[] = [];
  for (const raw of text?.split(',') ?? []) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1');
    if (!entry) continue;
    const [address = '', bits] = entry.split('/');
    if (isIP(address)) {
      const parsed = ipaddr.parse(address);
      const max = parsed.kind() === 'ipv4' ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
      if (!(prefix >= 0 && prefix <= max)) throw new Error(`"${raw.trim()}" has no valid prefix length (0-${max})`);
      ranges.push([parsed, prefix]);
    } else if (bits === undefined && isHostName(entry)) {
      hosts.add(entry);
    } else {
      throw new Error(`"${raw.trim()}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return { hosts, ranges };
}

/** What is wrong with an UPSTREAM_FETCH_ALLOW value, for the environment's check. */
export function fetchAllowProblem(text: string): string | undefined {
  try {
    parseFetchAllow(text);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** A host name as a URL would carry it (so "10.1" or "a b" are not), and not an IP address. */
function isHostName(entry: string): boolean {
  if (!/^[a-z0-9_.-]+$/.test(entry)) return false;
  try {
    return new URL(`http://${entry}/`).hostname === entry && !isIP(entry);
  } catch {
    return false;
  }
}

function transportFailure(error: unknown, url: URL, signal: AbortSignal, timeoutMs: number): LinkFailure {
  if (error instanceof LinkFailure) return error;
  if (signal.aborted) return new LinkFailure('timeout', `${url.origin} did not answer within ${timeoutMs} ms`);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
  return new LinkFailure('unreachable', `${url.origin} could not be reached (${code})`, { cause: error });
}

async function readBounded(
  response: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new LinkFailure('too_large', `the answer declares ${declared} bytes, more than ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += bytes.byteLength;
      if (total > maxBytes) {
        response.destroy();
        throw new LinkFailure('too_large', `the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(bytes);
    }
  } catch (error) {
    if (error instanceof LinkFailure) throw error;
    if (signal.aborted) throw new LinkFailure('timeout', `the answer did not arrive within ${timeoutMs} ms`);
    throw new LinkFailure('unreachable', 'the answer was cut off', { cause: error });
  }
  return Buffer.concat(chunks);
}

/** Reads a reply we do not keep, up to `maxBytes`, then lets the socket go: its status is the answer. */
async function discardReply(response: IncomingMessage, maxBytes: number): Promise<void> {
  let total = 0;
  try {
    for await (const chunk of response) {
      total += Buffer.isBuffer(chunk) ? chunk.byteLength : String(chunk).length;
      if (total >= maxBytes) break;
    }
  } catch {
    // A reply cut off after its status line still said what it had to.
  } finally {
    response.destroy();
  }
}
