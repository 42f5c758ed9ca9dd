import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { expect, test } from 'vitest';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

function fakeDist(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mj-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  return dir;
}

test('hashed assets are served with a one-year immutable cache', async () => {
  const { app } = buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/index-abc123.js');

  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
});

test.each(['/', '/gallery/some-job'])('the client route %s answers index.html without caching', async (route) => {
  const { app } = buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get(route).set('accept', 'text/html');

  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-cache');
  expect(response.text).toContain('<div id="root">');
});

test('a missing asset is a 404, not the app shell', async () => {
  const { app } = buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/assets/missing-123.js');

  expect(response.status).toBe(404);
  expect(response.body.error.code).toBe('not_found');
});

test('API routes are never answered with the app shell', async () => {
  const { app } = buildTestApp({ clientDist: fakeDist() });

  const response = await request(app).get('/api/unknown').set('accept', 'text/html');

  expect(response.status).toBe(404);
  expect(response.body.error.code).toBe('not_found');
});
