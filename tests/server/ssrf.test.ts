// Server-side request forgery through the links an upstream hands back, tried as an attacker
// would: a v7 answer or a relay task points our image download at this machine or its
// network, directly, through a host name, or through redirects (server/src/upstream/safe-fetch.ts).
import { once } from 'node:events';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { HttpResponse, http, passthrough } from 'msw';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { type ComposedServer, createServer } from '../../server/src/compose';
import { parseEnv } from '../../server/src/env';
import { createLogger } from '../../server/src/logger';
import { LINK_FAILED } from '../../server/src/upstream/image-fetcher';
import { addressRefusal, type HostResolver } from '../../server/src/upstream/safe-fetch';
import { server } from '../mocks/node';
import { CDN_BASE, tinyPng, UPSTREAM_BASE, UPSTREAM_KEY } from '../mocks/upstream';
import { resolverOf } from '../support/resolver';
import { buildTestApp, mockUpstreamForEachTest, submitJob, tempDir } from './helpers';

mockUpstreamForEachTest();

const JOB_ERROR = `The image could not be downloaded: ${LINK_FAILED}`;

const composed: ComposedServer[] = [];
const listening: Server[] = [];
afterEach(async () => {
  for (const app of composed.splice(0)) await app.close();
  for (const target of listening.splice(0)) {
    target.closeAllConnections();
    target.close();
  }
});

const png = () =>
  HttpResponse.arrayBuffer(new Uint8Array(tinyPng()).buffer, { headers: { 'content-type': 'image/png' } });

/** Matches every URL that starts like this one, as URL parsing writes it (IPv6 hosts included). */
const startingWith = (link: string) => new RegExp(`^${new URL(link).href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

/** An internal service at this URL (and below) that would hand over an image if only it were asked. */
function internalService(link: string): { hits: number } {
  const seen = { hits: 0 };
  server.use(
    http.get(startingWith(link), () => {
      seen.hits += 1;
      return png();
    }),
  );
  return seen;
}

/** A real listener on a loopback port; it records the Host and path of every request it gets. */
async function loopbackService(answer: RequestListener = (_req, res) => res.end(tinyPng())) {
  const hits: string[] = [];
  const target = createHttpServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    answer(req, res);
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  listening.push(target);
  return { port: (target.address() as AddressInfo).port, hits };
}

async function closedPort(): Promise<number> {
  const target = createHttpServer();
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const { port } = target.address() as AddressInfo;
  await new Promise((resolve) => target.close(resolve));
  return port;
}

/** A link on a host only the test's resolver knows reaches the socket: msw lets it through. */
function letThrough(link: string): void {
  server.use(http.get(startingWith(new URL(link).origin), () => passthrough()));
}

/**
 * The server as production composes it on the mocked v7 upstream, with the settings this
 * file is about (UPSTREAM_FETCH_ALLOW, a short time-out) and a resolver that needs no DNS.
 */
async function guardedApp(options: { allow?: string; resolveHost?: HostResolver } = {}) {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await createServer(
    {
      ...parseEnv({
        DATA_DIR: tempDir(),
        SESSION_SECRET: 'test-cookie-secret-0123456789abcdef',
        UPSTREAM: 'v7',
        MIDJOURNEY_API_KEY: UPSTREAM_KEY,
        MIDJOURNEY_API_BASE: UPSTREAM_BASE,
        UPSTREAM_FETCH_ALLOW: options.allow,
        EXPECTED_JOB_MS: '120000',
        BUDGET_PER_MINUTE: '1000',
        BUDGET_BURST: '100',
      }),
      UPSTREAM_TIMEOUT_MS: 400,
    },
    { logger: createLogger({ level: 'debug', destination }), resolveHost: options.resolveHost },
  );
  composed.push(app);
  return { ...app, logs, agent: request.agent(app.app) };
}

type App = { agent: request.Agent; jobs: ComposedServer['jobs'] };

/** Runs one job whose upstream finishes it with this image link; answers our view of the job. */
async function jobFinishedWith(
  app: App,
  imageUrl: string,
): Promise<{ status: string; error?: string; image_url?: string }> {
  const id = await submitJob(app.agent);
  server.use(
    http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () =>
      HttpResponse.json({ status: 'complete', progress: 100, image_url: imageUrl }),
    ),
  );
  await app.jobs.refresh(id);
  return (await app.agent.get(`/api/jobs/${id}`)).body;
}

test.each([
  ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
  ['a loopback port', 'http://127.0.0.1:6379/'],
  ['the IPv6 loopback', 'http://[::1]:8080/admin.png'],
  ['the loopback as an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]:8080/admin.png'],
  ['the metadata service as an IPv4-mapped IPv6 address', 'http://[::ffff:a9fe:a9fe]/latest/meta-data/'],
  ['the metadata service through NAT64', 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/'],
  ['a private 10.x address', 'http://10.0.0.5/internal.png'],
  ['a private 192.168.x address', 'http://192.168.1.1/router.png'],
  ['a carrier-grade NAT address', 'http://100.64.0.1/x.png'],
  ['the unspecified address', 'http://0.0.0.0:3000/x.png'],
  ['the loopback written as one decimal number', 'http://2130706433/x.png'],
  ['the loopback written in hex and short form', 'http://0x7f.1/x.png'],
  ['an IPv6 unique-local address', 'http://[fd12:3456::1]/x.png'],
  ['an IPv6 link-local address', 'http://[fe80::1]/x.png'],
  ['the loopback as an IPv4-compatible IPv6 address', 'http://[::7f00:1]/x.png'],
])('an image link to %s is refused without being requested', async (_label, link) => {
  const app = await buildTestApp();
  const target = internalService(link);

  const job = await jobFinishedWith(app, link);

  expect(job.status).toBe('failed');
  expect(job.error).toBe(JOB_ERROR);
  expect(job.image_url).toBeUndefined();
  expect(target.hits).toBe(0);
});

test('an image link to a real listener on a loopback port never reaches it', async () => {
  const app = await buildTestApp();
  const target = await loopbackService();

  const job = await jobFinishedWith(app, `http://127.0.0.1:${target.port}/secret.png`);

  expect(job).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect(target.hits).toEqual([]);
});

test.each([
  ['the loopback', ['127.0.0.1']],
  ['the IPv6 loopback', ['::1']],
  ['an IPv4-mapped loopback', ['::ffff:127.0.0.1']],
  ['the metadata service', ['169.254.169.254']],
  ['a public address and a private one', ['93.184.215.14', '10.0.0.1']],
])('a host name that resolves to %s is refused before any connection', async (_label, addresses) => {
  const target = await loopbackService();
  const resolveHost = resolverOf({ 'metadata.attacker.test': addresses });
  const app = await guardedApp({ resolveHost });
  const link = `http://metadata.attacker.test:${target.port}/latest/meta-data/`;
  letThrough(link);

  const job = await jobFinishedWith(app, link);

  expect(job).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect(resolveHost.asked).toEqual(['metadata.attacker.test']);
  expect(target.hits).toEqual([]);
});

test.each([
  ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
  ['a loopback port', 'http://127.0.0.1:2375/containers/json'],
  ['the loopback written as one decimal number', 'http://2130706433:8080/x.png'],
  ['a file', 'file:///etc/passwd'],
])('a public link that redirects to %s is refused at the redirect', async (_label, internal) => {
  const app = await buildTestApp();
  const target = internal.startsWith('http') ? internalService(internal) : { hits: 0 };
  server.use(
    http.get(
      `${CDN_BASE}/images/:name`,
      () => new HttpResponse(null, { status: 302, headers: { location: internal } }),
    ),
  );

  const job = await jobFinishedWith(app, `${CDN_BASE}/images/innocent.png`);

  expect(job).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect(target.hits).toBe(0);
});

test.each([
  [3, 'complete'],
  [4, 'failed'],
])('a link that redirects %i times in a row ends %s', async (redirects, status) => {
  const app = await buildTestApp();
  server.use(
    http.get(`${CDN_BASE}/hop/:n`, ({ params }) => {
      const n = Number(params.n);
      return n === 0 ? png() : new HttpResponse(null, { status: 307, headers: { location: `/hop/${n - 1}` } });
    }),
  );

  const job = await jobFinishedWith(app, `${CDN_BASE}/hop/${redirects}`);

  expect(job.status).toBe(status);
});

test('an image link to a public address is downloaded', async () => {
  const app = await buildTestApp();
  const cdn = internalService('http://93.184.215.14/images/a.png');

  const job = await jobFinishedWith(app, 'http://93.184.215.14/images/a.png');

  expect(job.status).toBe('complete');
  expect(cdn.hits).toBe(1);
});

test('a relay on a private address may link to images on its own host and port, and no other port', async () => {
  const relay = 'http://10.9.8.7:8080/mj';
  const imageUrl = { current: `${relay}/image/grid.png` };
  server.use(
    http.post(`${relay}/submit/imagine`, () => HttpResponse.json({ code: 1, description: 'ok', result: 'grid-1' })),
    http.get(`${relay}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json({ id: params.id, status: 'SUCCESS', progress: '100%', imageUrl: imageUrl.current }),
    ),
  );
  const images = internalService(`${relay}/image/grid.png`);
  const otherPort = internalService('http://10.9.8.7:9090/admin.png');
  const app = await buildTestApp({ relay: { baseUrl: relay, secret: 'relay-secret-4b8e1f' } });

  const own = await submitJob(app.agent);
  await app.jobs.refresh(own);
  imageUrl.current = 'http://10.9.8.7:9090/admin.png';
  const other = await submitJob(app.agent);
  await app.jobs.refresh(other);

  expect((await app.agent.get(`/api/jobs/${own}`)).body.status).toBe('complete');
  expect((await app.agent.get(`/api/jobs/${other}`)).body).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect(images.hits).toBe(1);
  expect(otherPort.hits).toBe(0);
});

test("in a pool, one account's links are trusted on its own host only: another account cannot point the server at it", async () => {
  const lanRelay = 'http://10.9.8.7:8080/mj';
  const otherRelay = 'https://relay-two.test/mj';
  const links = new Map<string, string>([
    [lanRelay, `${lanRelay}/image/grid.png`],
    // The second account answers with a link on the first one's private host.
    [otherRelay, `${lanRelay}/image/secret.png`],
  ]);
  for (const [base, link] of links) {
    server.use(
      http.post(`${base}/submit/imagine`, () => HttpResponse.json({ code: 1, description: 'ok', result: 'grid-1' })),
      http.get(`${base}/task/:id/fetch`, ({ params }) =>
        HttpResponse.json({ id: params.id, status: 'SUCCESS', progress: '100%', imageUrl: link }),
      ),
    );
  }
  const own = internalService(`${lanRelay}/image/grid.png`);
  const secret = internalService(`${lanRelay}/image/secret.png`);
  const relayAccount = (name: string, baseUrl: string, weight: number) => ({
    name,
    kind: 'mj-proxy' as const,
    baseUrl,
    secret: `relay-secret-${name}-4b8e1f`,
    perMinute: 60,
    maxRunning: 10,
    weight,
    modes: ['fast', 'relax', 'turbo'] as const,
    enabled: true,
    channel: undefined,
  });
  const app = await buildTestApp({
    accounts: [relayAccount('lan', lanRelay, 2), relayAccount('two', otherRelay, 1)],
  });

  const first = await submitJob(app.agent);
  const second = await submitJob(app.agent);
  await app.jobs.refresh(first);
  await app.jobs.refresh(second);

  expect([app.store.get(first)?.account, app.store.get(second)?.account]).toEqual(['lan', 'two']);
  expect((await app.agent.get(`/api/jobs/${first}`)).body.status).toBe('complete');
  expect((await app.agent.get(`/api/jobs/${second}`)).body).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect(own.hits).toBe(1);
  expect(secret.hits).toBe(0);
});

test('an UPSTREAM_FETCH_ALLOW range lets links reach those private addresses, and only those', async () => {
  const app = await guardedApp({ allow: '10.20.0.0/16, fd00:abcd::/32' });
  const inside = internalService('http://10.20.3.4/x.png');
  const inside6 = internalService('http://[fd00:abcd::7]/x.png');
  const outside = internalService('http://10.21.0.1/x.png');

  const allowed = await jobFinishedWith(app, 'http://10.20.3.4/x.png');
  const allowed6 = await jobFinishedWith(app, 'http://[fd00:abcd::7]/x.png');
  const refused = await jobFinishedWith(app, 'http://10.21.0.1/x.png');

  expect(allowed.status).toBe('complete');
  expect(allowed6.status).toBe('complete');
  expect(refused).toMatchObject({ status: 'failed', error: JOB_ERROR });
  expect([inside.hits, inside6.hits, outside.hits]).toEqual([1, 1, 0]);
});

test('an UPSTREAM_FETCH_ALLOW host name may resolve privately, and the socket goes to the address resolved once', async () => {
  const target = await loopbackService();
  const resolveHost = resolverOf({ 'images.lan': ['127.0.0.1'] });
  const app = await guardedApp({ allow: 'images.lan', resolveHost });
  const link = `http://images.lan:${target.port}/grid.png`;
  letThrough(link);

  const job = await jobFinishedWith(app, link);

  expect(job.status).toBe('complete');
  expect(resolveHost.asked).toEqual(['images.lan']);
  expect(target.hits).toEqual([`images.lan:${target.port}/grid.png`]);
});

test('a blocked address, a closed port, a silent port and an error page read the same to the user', async () => {
  const answering = await loopbackService((req, res) => {
    if (req.url === '/missing.png') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found: nginx/1.25 on db-admin');
    } else {
      res.end(tinyPng());
    }
  });
  const silent = await loopbackService(() => undefined);
  const closed = await closedPort();
  const resolveHost = resolverOf({ 'metadata.attacker.test': ['169.254.169.254'] });
  // 127.0.0.1 allowed, so that its ports are really tried: the only way to tell them apart.
  const app = await guardedApp({ allow: '127.0.0.1', resolveHost });
  internalService('http://10.0.0.7:8080/x.png');
  letThrough('http://metadata.attacker.test/');

  const jobs = {
    blocked: await jobFinishedWith(app, 'http://10.0.0.7:8080/x.png'),
    resolvedPrivately: await jobFinishedWith(app, 'http://metadata.attacker.test/latest/'),
    closed: await jobFinishedWith(app, `http://127.0.0.1:${closed}/x.png`),
    silent: await jobFinishedWith(app, `http://127.0.0.1:${silent.port}/x.png`),
    errorPage: await jobFinishedWith(app, `http://127.0.0.1:${answering.port}/missing.png`),
  };
  const working = await jobFinishedWith(app, `http://127.0.0.1:${answering.port}/fine.png`);

  expect(Object.values(jobs).map((job) => job.status)).toEqual(Object.values(jobs).map(() => 'failed'));
  expect(new Set(Object.values(jobs).map((job) => job.error))).toEqual(new Set([JOB_ERROR]));
  expect(working.status).toBe('complete');
  // The server's log keeps what happened.
  const log = app.logs.join('');
  expect(log).toContain('10.0.0.7:8080 is a private address');
  expect(log).toContain('resolves to 169.254.169.254, a linkLocal address');
  expect(log).toContain('ECONNREFUSED');
  expect(log).toContain('did not answer within 400 ms');
  expect(log).toContain('answered HTTP 404');
});

test('a relay preview on a blocked address answers exactly like one on a closed port', async () => {
  const closed = await closedPort();
  const relay = `http://127.0.0.1:${closed}/mj`;
  const preview = { current: `${relay}/image/preview.png` };
  server.use(
    http.post(`${relay}/submit/imagine`, () => HttpResponse.json({ code: 1, description: 'ok', result: 'grid-1' })),
    http.get(`${relay}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json({ id: params.id, status: 'IN_PROGRESS', progress: '40%', imageUrl: preview.current }),
    ),
  );
  const metadata = internalService('http://169.254.169.254/preview.png');
  const app = await buildTestApp({ relay: { baseUrl: relay, secret: 'relay-secret-4b8e1f' } });
  const id = await submitJob(app.agent);

  await app.jobs.refresh(id);
  const closedAnswer = await app.agent.get(`/api/jobs/${id}/preview`);
  preview.current = 'http://169.254.169.254/preview.png';
  await app.jobs.refresh(id);
  const blockedAnswer = await app.agent.get(`/api/jobs/${id}/preview`);

  expect(closedAnswer.status).toBe(502);
  expect([blockedAnswer.status, blockedAnswer.body]).toEqual([closedAnswer.status, closedAnswer.body]);
  expect(blockedAnswer.body.error.message).toBe(LINK_FAILED);
  expect(metadata.hits).toBe(0);
});

test.each([
  ['127.0.0.1', 'a loopback address'],
  ['0.0.0.0', 'a unspecified address'],
  ['255.255.255.255', 'a broadcast address'],
  ['224.0.0.251', 'a multicast address'],
  ['198.18.0.1', 'a reserved address'],
  ['::', 'a unspecified address'],
  ['ff02::1', 'a multicast address'],
  ['::ffff:10.1.2.3', 'a private address'],
  ['64:ff9b::7f00:1', 'a loopback address'],
  ['2002:7f00:1::', 'a 6to4 address'],
  ['::7f00:1', 'outside the global unicast range'],
  ['93.184.215.14', undefined],
  ['2606:4700:4700::1111', undefined],
  ['64:ff9b::5db8:d70e', undefined],
])('the address %s is refused as %s', (address, refusal) => {
  expect(addressRefusal(address)).toBe(refusal);
});

test('UPSTREAM_FETCH_ALLOW stops the server at start-up with the entry it cannot read', () => {
  const parse = (value: string) => () => parseEnv({ UPSTREAM_FETCH_ALLOW: value });

  expect(parse('images.lan, 10.0.0.0/8, 127.0.0.1, ::1, fd00::/8')).not.toThrow();
  expect(parse('10.0.0.0/33')).toThrow(/UPSTREAM_FETCH_ALLOW: "10.0.0.0\/33" has no valid prefix length/);
  expect(parse('images.lan/8')).toThrow(/UPSTREAM_FETCH_ALLOW: "images.lan\/8" is not a host name/);
  expect(parse('http://images.lan')).toThrow(/UPSTREAM_FETCH_ALLOW/);
});
