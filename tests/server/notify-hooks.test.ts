// The relay protocol's notifyHook as a client and an attacker meet it: the task JSON POSTed on
// every change, retried on a clock the test holds, and never sent into our own network
// (server/src/webhooks/notify-hooks.ts over postJson in server/src/upstream/safe-fetch.ts).
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { HttpResponse, http, passthrough } from 'msw';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { DomainError } from '../../server/src/errors';
import { createLogger } from '../../server/src/logger';
import { LinkFailure, parseFetchAllow, postJson } from '../../server/src/upstream/safe-fetch';
import { NotifyHooks, type NotifyHooksOptions } from '../../server/src/webhooks/notify-hooks';
import { server } from '../mocks/node';
import { resolverOf } from '../support/resolver';

// Stricter than mockHttpForEachTest: not even loopback passes unannounced, so a hook that
// reached a socket the test did not open itself fails the test.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
const hooks: NotifyHooks[] = [];
const listening: Server[] = [];
afterEach(async () => {
  for (const made of hooks.splice(0)) await made.close();
  for (const target of listening.splice(0)) {
    target.closeAllConnections();
    target.close();
  }
  server.resetHandlers();
  server.events.removeAllListeners();
  vi.useRealTimers();
});
afterAll(() => server.close());

const HOOK = 'https://hooks.client.test/mj/notify?token=client-secret-91ab';
const NO_ALLOW = { hosts: new Set<string>(), ranges: [] };

function task(status: string, progress: string) {
  return {
    id: '1700000000000001',
    action: 'IMAGINE',
    status,
    progress,
    prompt: 'a lighthouse at dusk',
    state: '{"user":42}',
    submitTime: 1_700_000_000_000,
    finishTime: status === 'SUCCESS' ? 1_700_000_030_000 : null,
    imageUrl: status === 'SUCCESS' ? 'https://studio.test/mj/image/1.png' : '',
    failReason: null,
  };
}

/** What one hook URL received: the bodies, the time each arrived and the headers of each. */
interface Received {
  bodies: unknown[];
  times: number[];
  headers: Record<string, string>[];
}

/** A client's hook endpoint at `link` that answers with `answers` in turn (the last one repeats). */
function hookEndpoint(link: string, answers: (() => Response | Promise<Response>)[] = [() => new Response(null)]) {
  const received: Received = { bodies: [], times: [], headers: [] };
  server.use(
    http.post(`${new URL(link).origin}${new URL(link).pathname}`, async ({ request }) => {
      received.times.push(Date.now());
      received.headers.push(Object.fromEntries(request.headers));
      received.bodies.push(await request.json());
      const answer = answers[Math.min(received.bodies.length - 1, answers.length - 1)];
      return answer ? answer() : new Response(null);
    }),
  );
  return received;
}

/** Every request that reached msw at all, handled or not. */
function outboundRequests(): string[] {
  const seen: string[] = [];
  server.events.on('request:start', ({ request }) => seen.push(request.url));
  return seen;
}

/** A real listener on a loopback port, reached only through a passthrough; records what it got. */
async function loopbackHook(): Promise<{ port: number; hits: { headers: IncomingHttpHeaders; body: string }[] }> {
  const hits: { headers: IncomingHttpHeaders; body: string }[] = [];
  const target = createHttpServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    hits.push({ headers: req.headers, body });
    res.end('ok');
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  listening.push(target);
  return { port: (target.address() as AddressInfo).port, hits };
}

/** A host only the test's resolver knows reaches a socket: msw lets it through. */
function letThrough(link: string): void {
  server.use(
    http.post(new RegExp(`^${new URL(link).origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), () => passthrough()),
  );
}

/** NotifyHooks with a logger whose lines the test reads; closed after the test. */
function notifyHooks(options: Partial<NotifyHooksOptions> = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const made = new NotifyHooks({ logger: createLogger({ level: 'debug', destination }), ...options });
  hooks.push(made);
  return { hooks: made, lines };
}

/** The fake clock: only timers and Date, so sockets and promises run as they do in production. */
const installFakeClock = () => vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });

/** Moves the fake clock on, then lets the attempts that became due run to their end. */
async function advance(made: NotifyHooks, ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await made.settled();
}

const gaps = (times: number[]) => times.slice(1).map((time, index) => time - (times[index] ?? 0));

test('postJson sends the JSON as application/json with nothing of ours, and answers the status', async () => {
  const received = hookEndpoint(HOOK, [() => new Response(null, { status: 202 })]);
  const body = task('IN_PROGRESS', '40%');

  const reply = await postJson(HOOK, JSON.stringify(body), {
    policy: { allow: NO_ALLOW, resolve: resolverOf({}) },
    timeoutMs: 1_000,
  });

  expect(reply).toEqual({ status: 202 });
  expect(received.bodies).toEqual([body]);
  expect(received.headers[0]?.['content-type']).toBe('application/json');
  expect(Object.keys(received.headers[0] ?? {})).not.toContain('cookie');
  expect(Object.keys(received.headers[0] ?? {})).not.toContain('authorization');
});

test('postJson answers a 500 as its status rather than throwing', async () => {
  hookEndpoint(HOOK, [() => new Response('down', { status: 500 })]);

  const reply = await postJson(HOOK, '{}', { policy: { allow: NO_ALLOW, resolve: resolverOf({}) }, timeoutMs: 1_000 });

  expect(reply.status).toBe(500);
});

test('postJson fails at a redirect and never asks where it points', async () => {
  const inside = hookEndpoint('https://hooks.client.test/elsewhere');
  server.use(
    http.post('https://hooks.client.test/mj/notify', () =>
      HttpResponse.text('', { status: 307, headers: { location: 'https://hooks.client.test/elsewhere' } }),
    ),
  );

  const posting = postJson(HOOK, '{}', { policy: { allow: NO_ALLOW, resolve: resolverOf({}) }, timeoutMs: 1_000 });

  await expect(posting).rejects.toMatchObject({ name: 'LinkFailure', reason: 'status' });
  await expect(posting).rejects.toThrow(/HTTP 307, a redirect/);
  expect(inside.bodies).toEqual([]);
});

test('postJson refuses a link that carries credentials, without sending it', async () => {
  const seen = outboundRequests();

  const posting = postJson('https://user:pass@hooks.client.test/mj/notify', '{}', {
    policy: { allow: NO_ALLOW, resolve: resolverOf({}) },
    timeoutMs: 1_000,
  });

  await expect(posting).rejects.toMatchObject({ reason: 'refused' });
  expect(seen).toEqual([]);
});

test('postJson reads a small part of an endless reply, then hangs up', async () => {
  const replier = { written: 0, closed: false };
  const target = createHttpServer((_req, res) => {
    const more = () => {
      while (!res.destroyed && res.write(Buffer.alloc(16 * 1024))) replier.written += 16 * 1024;
    };
    res.on('drain', more);
    res.on('close', () => {
      replier.closed = true;
    });
    more();
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  listening.push(target);
  const link = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
  letThrough(link);

  const reply = await postJson(link, '{}', {
    policy: { allow: parseFetchAllow('127.0.0.1'), resolve: resolverOf({}) },
    timeoutMs: 5_000,
  });
  await vi.waitUntil(() => replier.closed);

  expect(reply.status).toBe(200);
  // What the socket buffers took before the hang-up, not the endless rest.
  expect(replier.written).toBeLessThan(16 * 1024 * 1024);
});

test.each([
  ['a loopback port', 'http://127.0.0.1:6379/hook'],
  ['the IPv6 loopback', 'http://[::1]:8080/hook'],
  ['the loopback as an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]/hook'],
  ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
  ['a private 10.x address', 'http://10.0.0.5/hook'],
  ['a private 192.168.x address', 'http://192.168.1.1/hook'],
  ['the loopback written as one decimal number', 'http://2130706433/hook'],
  ['an IPv6 unique-local address', 'http://[fd12:3456::1]/hook'],
])('postJson refuses %s without a request', async (_label, link) => {
  const seen = outboundRequests();

  const posting = postJson(link, '{}', { policy: { allow: NO_ALLOW, resolve: resolverOf({}) }, timeoutMs: 1_000 });

  await expect(posting).rejects.toBeInstanceOf(LinkFailure);
  await expect(posting).rejects.toMatchObject({ reason: 'refused' });
  expect(seen).toEqual([]);
});

test.each([
  ['the loopback', ['127.0.0.1']],
  ['the IPv6 loopback', ['::1']],
  ['the metadata service', ['169.254.169.254']],
  ['a public address and a private one', ['93.184.215.14', '10.0.0.1']],
])('postJson refuses a host name that resolves to %s before any connection', async (_label, addresses) => {
  const target = await loopbackHook();
  const resolve = resolverOf({ 'hooks.attacker.test': addresses });
  const link = `http://hooks.attacker.test:${target.port}/hook`;
  letThrough(link);

  const posting = postJson(link, '{}', { policy: { allow: NO_ALLOW, resolve }, timeoutMs: 1_000 });

  await expect(posting).rejects.toMatchObject({ reason: 'refused' });
  expect(resolve.asked).toEqual(['hooks.attacker.test']);
  expect(target.hits).toEqual([]);
});

test('postJson reaches a private host name that the allow list names, at the address resolved once', async () => {
  const target = await loopbackHook();
  const resolve = resolverOf({ 'hooks.lan': ['127.0.0.1'] });
  const link = `http://hooks.lan:${target.port}/hook`;
  letThrough(link);

  const reply = await postJson(link, '{"status":"SUCCESS"}', {
    policy: { allow: parseFetchAllow('hooks.lan'), resolve },
    timeoutMs: 1_000,
  });

  expect(reply.status).toBe(200);
  expect(resolve.asked).toEqual(['hooks.lan']);
  expect(target.hits.map((hit) => [hit.headers.host, hit.body])).toEqual([
    [`hooks.lan:${target.port}`, '{"status":"SUCCESS"}'],
  ]);
  expect(target.hits[0]?.headers.cookie).toBeUndefined();
});

test('a change is delivered to the hook as the task JSON', async () => {
  const received = hookEndpoint(HOOK);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();

  expect(received.bodies).toEqual([task('IN_PROGRESS', '40%')]);
});

test('a hook that answers 500 is tried again after 1 s and 4 s, and the success ends it', async () => {
  installFakeClock();
  const fail = () => new Response(null, { status: 500 });
  const received = hookEndpoint(HOOK, [fail, fail, () => new Response(null, { status: 204 })]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();
  await advance(made, 999);
  const beforeFirstWait = received.bodies.length;
  await advance(made, 1);
  await advance(made, 4_000);
  await advance(made, 10 * 60_000);

  expect(beforeFirstWait).toBe(1);
  expect(received.bodies).toHaveLength(3);
  expect(gaps(received.times)).toEqual([1_000, 4_000]);
  expect(received.bodies).toEqual([1, 2, 3].map(() => task('IN_PROGRESS', '40%')));
});

test('a 429 is tried again like a 500', async () => {
  installFakeClock();
  const received = hookEndpoint(HOOK, [() => new Response(null, { status: 429 }), () => new Response(null)]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();
  await advance(made, 1_000);

  expect(received.bodies).toHaveLength(2);
});

test('after the last retry the delivery is given up with one log line that names the job and host, not the query', async () => {
  installFakeClock();
  const received = hookEndpoint(HOOK, [() => new Response(null, { status: 503 })]);
  const { hooks: made, lines } = notifyHooks();
  made.track('job-7', HOOK);

  made.changed('job-7', task('SUCCESS', '100%'));
  await made.settled();
  for (const wait of [1_000, 4_000, 16_000, 60_000]) await advance(made, wait);
  await advance(made, 10 * 60_000);

  expect(received.bodies).toHaveLength(5);
  expect(gaps(received.times)).toEqual([1_000, 4_000, 16_000, 60_000]);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
    level: 40,
    jobId: 'job-7',
    host: 'hooks.client.test',
    attempts: 5,
    reason: 'HTTP 503',
  });
  expect(lines[0]).not.toContain('client-secret');
  expect(lines[0]).not.toContain('/mj/notify');
  // The final state was given up: nothing more is kept for the job.
  expect(made.isTracked('job-7')).toBe(false);
});

test('a 404 is not tried again', async () => {
  installFakeClock();
  const received = hookEndpoint(HOOK, [() => new Response('no such hook', { status: 404 })]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();
  await advance(made, 10 * 60_000);

  expect(received.bodies).toHaveLength(1);
});

test('changes made while a delivery is in flight are coalesced: only the newest is sent next', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const received = hookEndpoint(HOOK, [
    async () => {
      await gate;
      return new Response(null);
    },
    () => new Response(null),
  ]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '10%'));
  await vi.waitUntil(() => received.bodies.length === 1);
  made.changed('job-1', task('IN_PROGRESS', '20%'));
  made.changed('job-1', task('IN_PROGRESS', '30%'));
  made.changed('job-1', task('SUCCESS', '100%'));
  release();
  await made.settled();

  expect(received.bodies).toEqual([task('IN_PROGRESS', '10%'), task('SUCCESS', '100%')]);
  expect(made.isTracked('job-1')).toBe(false);
});

test('a retry carries the newest state when the task changed during the wait', async () => {
  installFakeClock();
  const received = hookEndpoint(HOOK, [() => new Response(null, { status: 502 }), () => new Response(null)]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '10%'));
  await made.settled();
  made.changed('job-1', task('IN_PROGRESS', '50%'));
  made.changed('job-1', task('IN_PROGRESS', '70%'));
  await advance(made, 1_000);
  await advance(made, 10 * 60_000);

  expect(received.bodies).toEqual([task('IN_PROGRESS', '10%'), task('IN_PROGRESS', '70%')]);
});

test('no more than four deliveries are in flight at once', async () => {
  let inFlight = 0;
  let most = 0;
  const answered: (() => void)[] = [];
  server.use(
    http.post('https://hooks.client.test/mj/notify', async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => answered.push(resolve));
      inFlight -= 1;
      return new Response(null);
    }),
  );
  const { hooks: made } = notifyHooks();

  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
    made.track(id, HOOK);
    made.changed(id, task('SUCCESS', '100%'));
  }
  await vi.waitUntil(() => answered.length === 4);
  while (answered.length > 0) {
    for (const answer of answered.splice(0)) answer();
    await vi.waitUntil(() => answered.length > 0 || inFlight === 0);
  }
  await made.settled();

  expect(most).toBe(4);
  expect(['a', 'b', 'c', 'd', 'e', 'f'].filter((id) => made.isTracked(id))).toEqual([]);
});

test.each([
  ['a loopback address', 'http://127.0.0.1:8080/hook'],
  ['a private address', 'http://10.20.3.4/hook'],
  ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
])('a hook on %s is refused when delivering: no request, no retry', async (_label, link) => {
  installFakeClock();
  const seen = outboundRequests();
  const { hooks: made, lines } = notifyHooks();
  made.track('job-1', link);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();
  await advance(made, 10 * 60_000);

  expect(seen).toEqual([]);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0] ?? '{}').reason).toMatch(/^refused: .* is a (loopback|private|linkLocal) address$/);
});

test('a host name resolving to a private address is refused when delivering', async () => {
  const target = await loopbackHook();
  const resolve = resolverOf({ 'hooks.attacker.test': ['127.0.0.1'] });
  const link = `http://hooks.attacker.test:${target.port}/hook`;
  letThrough(link);
  const { hooks: made } = notifyHooks({ resolve });
  made.track('job-1', link);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();

  expect(resolve.asked).toEqual(['hooks.attacker.test']);
  expect(target.hits).toEqual([]);
});

test('a private address the allow list names is delivered to, and its neighbours are not', async () => {
  const inside = hookEndpoint('http://10.20.3.4/hook');
  const seen = outboundRequests();
  const { hooks: made } = notifyHooks({ allow: parseFetchAllow('10.20.0.0/16') });
  made.track('inside', 'http://10.20.3.4/hook');
  made.track('outside', 'http://10.21.0.1/hook');

  made.changed('inside', task('IN_PROGRESS', '40%'));
  made.changed('outside', task('IN_PROGRESS', '40%'));
  await made.settled();

  expect(inside.bodies).toEqual([task('IN_PROGRESS', '40%')]);
  expect(seen).toEqual(['http://10.20.3.4/hook']);
});

test('a redirecting hook is neither followed nor tried again', async () => {
  installFakeClock();
  const elsewhere = hookEndpoint('https://hooks.client.test/elsewhere');
  const redirects = outboundRequests();
  server.use(
    http.post('https://hooks.client.test/mj/notify', () =>
      HttpResponse.text('', { status: 302, headers: { location: '/elsewhere' } }),
    ),
  );
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();
  await advance(made, 10 * 60_000);

  expect(redirects).toEqual([HOOK]);
  expect(elsewhere.bodies).toEqual([]);
});

test('a hook that does not answer in time is abandoned at the time-out and tried again', async () => {
  installFakeClock();
  let reached: () => void = () => undefined;
  const firstReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const silence = () => {
    reached();
    return new Promise<Response>(() => undefined);
  };
  const received = hookEndpoint(HOOK, [silence, () => new Response(null)]);
  const { hooks: made } = notifyHooks({ timeoutMs: 5_000 });
  made.track('job-1', HOOK);

  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await firstReached;
  // Not advance(): the attempt is still in flight, and settling would wait for it.
  await vi.advanceTimersByTimeAsync(4_999);
  const beforeTimeout = received.bodies.length;
  await advance(made, 1);
  await advance(made, 1_000);

  expect(beforeTimeout).toBe(1);
  expect(received.bodies).toHaveLength(2);
  expect(gaps(received.times)).toEqual([6_000]);
  expect(made.isTracked('job-1')).toBe(true);
});

test('close() cancels the retries still waiting', async () => {
  installFakeClock();
  const received = hookEndpoint(HOOK, [() => new Response(null, { status: 500 })]);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);
  made.changed('job-1', task('IN_PROGRESS', '40%'));
  await made.settled();

  await made.close();
  await advance(made, 10 * 60_000);

  expect(received.bodies).toHaveLength(1);
  expect(vi.getTimerCount()).toBe(0);
});

test('a final state once delivered ends the tracking, and later changes go nowhere', async () => {
  const received = hookEndpoint(HOOK);
  const { hooks: made } = notifyHooks();
  made.track('job-1', HOOK);

  made.changed('job-1', task('SUCCESS', '100%'));
  await made.settled();
  made.changed('job-1', task('SUCCESS', '100%'));
  await made.settled();

  expect(received.bodies).toHaveLength(1);
  expect(made.isTracked('job-1')).toBe(false);
});

test.each([
  ['an ftp link', 'ftp://hooks.client.test/notify'],
  ['no URL at all', 'hooks.client.test/notify'],
  ['a link with a password in it', 'https://user:hunter2@hooks.client.test/notify'],
  ['a link longer than 2000 characters', `https://hooks.client.test/${'a'.repeat(2_000)}`],
])('track refuses %s', (_label, link) => {
  const { hooks: made } = notifyHooks();

  expect(() => made.track('job-1', link)).toThrow(DomainError);
  expect(made.isTracked('job-1')).toBe(false);
});

test('only the most recently tracked jobs are kept once the bound is reached', () => {
  const { hooks: made } = notifyHooks({ maxTracked: 2 });

  made.track('first', HOOK);
  made.track('second', HOOK);
  made.track('third', HOOK);

  expect(['first', 'second', 'third'].map((id) => made.isTracked(id))).toEqual([false, true, true]);
});
