import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { expect, test } from 'vitest';
import { preferredCodings } from '../../server/src/http/client-assets';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const SCRIPT = `console.log(${JSON.stringify('a'.repeat(2_000))})`;
const SHELL = `<!doctype html><div id="root"></div>${'<!-- padding -->'.repeat(100)}`;

/** A build as vite.config.ts writes it: each text file with its .br and .gz copies, and a hidden source map. */
function fakeDist(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mj-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  const write = (file: string, text: string, compressed = true) => {
    writeFileSync(path.join(dir, file), text);
    if (!compressed) return;
    writeFileSync(path.join(dir, `${file}.br`), brotliCompressSync(text));
    writeFileSync(path.join(dir, `${file}.gz`), gzipSync(text));
  };
  write('index.html', SHELL);
  write('assets/index-abc123.js', SCRIPT);
  write('assets/index-abc123.css', 'body { margin: 0 }', false);
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js.map'), '{"version":3,"sources":["secret.ts"]}');
  return dir;
}

test('hashed assets are served with a one-year immutable cache', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.js');

  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
});

test.each(['/', '/gallery/some-job'])('the client route %s answers index.html without caching', async (route) => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get(route).set('accept', 'text/html');

  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-cache');
  expect(response.text).toContain('<div id="root">');
});

test('a missing asset is a 404, not the app shell', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/missing-123.js');

  expect(response.status).toBe(404);
  expect(response.body.error.code).toBe('not_found');
});

test('API routes are never answered with the app shell', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/api/unknown').set('accept', 'text/html');

  expect(response.status).toBe(404);
  expect(response.body.error.code).toBe('not_found');
});

test("a script goes out brotli-compressed to a browser that accepts br, with the plain file's type", async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.js').set('accept-encoding', 'gzip, deflate, br, zstd');

  expect(response.status).toBe(200);
  expect(response.headers['content-encoding']).toBe('br');
  expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(response.headers.vary).toMatch(/accept-encoding/i);
  expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  // supertest decodes the body, as a browser does; the length is that of the brotli copy.
  expect(response.headers['content-length']).toBe(String(brotliCompressSync(SCRIPT).length));
  expect(response.text).toBe(SCRIPT);
});

test('a script goes out gzip-compressed to a browser that accepts only gzip', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.js').set('accept-encoding', 'gzip');

  expect(response.status).toBe(200);
  expect(response.headers['content-encoding']).toBe('gzip');
  expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(response.headers.vary).toMatch(/accept-encoding/i);
  expect(response.headers['content-length']).toBe(String(gzipSync(SCRIPT).length));
  expect(response.text).toBe(SCRIPT);
});

test('a client that accepts no compression gets the plain file, still marked as varying', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.js').set('accept-encoding', 'identity');

  expect(response.status).toBe(200);
  expect(response.headers['content-encoding']).toBeUndefined();
  expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(response.headers.vary).toMatch(/accept-encoding/i);
  expect(response.text).toBe(SCRIPT);
});

test('each copy has its own ETag, and a repeated request with it is answered 304', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });
  const first = await request(app).get('/assets/index-abc123.js').set('accept-encoding', 'br');
  const plain = await request(app).get('/assets/index-abc123.js').set('accept-encoding', 'identity');

  const again = await request(app)
    .get('/assets/index-abc123.js')
    .set('accept-encoding', 'br')
    .set('if-none-match', String(first.headers.etag));

  expect(first.headers.etag).toBeTruthy();
  expect(first.headers.etag).not.toBe(plain.headers.etag);
  expect(again.status).toBe(304);
});

test('a text file the build did not compress is sent plain even to a browser that accepts br', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.css').set('accept-encoding', 'br, gzip');

  expect(response.status).toBe(200);
  expect(response.headers['content-encoding']).toBeUndefined();
  expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
  expect(response.text).toBe('body { margin: 0 }');
});

test('the app shell is compressed too, and never cached', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/').set('accept', 'text/html').set('accept-encoding', 'br');

  expect(response.status).toBe(200);
  expect(response.headers['content-encoding']).toBe('br');
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-cache');
  expect(response.headers.etag).toBeTruthy();
  expect(response.headers['content-length']).toBe(String(brotliCompressSync(SHELL).length));
  expect(response.text).toBe(SHELL);
});

test('source maps are never served, whatever the encoding asked for', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const plain = await request(app).get('/assets/index-abc123.js.map').set('accept-encoding', 'identity');
  const compressed = await request(app).get('/assets/index-abc123.js.map').set('accept-encoding', 'br, gzip');

  expect(plain.status).toBe(404);
  expect(plain.body.error.code).toBe('not_found');
  expect(compressed.status).toBe(404);
});

test('a path that climbs out of the build is a 404, compressed copies included', async () => {
  const { app } = await buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/%2E%2E/%2E%2E/etc/passwd.js').set('accept-encoding', 'br');

  expect(response.status).toBe(404);
});

test.each([
  [undefined, ['identity']],
  ['gzip, deflate, br, zstd', ['br', 'gzip', 'identity']],
  ['gzip', ['gzip', 'identity']],
  ['gzip;q=1, br;q=0.5', ['gzip', 'br', 'identity']],
  ['br;q=0, gzip', ['gzip', 'identity']],
  ['*', ['br', 'gzip', 'identity']],
  ['br, identity;q=0', ['br']],
  ['deflate', ['identity']],
])('Accept-Encoding %j allows %j, best first', (header, expected) => {
  expect(preferredCodings(header)).toEqual(expected);
});
