import { errorBodySchema } from '@shared/schemas/error';
import { PROMPT_MAX_LENGTH } from '@shared/schemas/imagine';
import request from 'supertest';
import { expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

function countUpstreamCalls() {
  const calls: string[] = [];
  server.events.on('request:start', ({ request: outbound }) => {
    if (outbound.url.startsWith(UPSTREAM_BASE)) calls.push(outbound.url);
  });
  return calls;
}

test.each([
  ['a missing prompt', {}, 'prompt'],
  ['a prompt of spaces', { prompt: '   \n ' }, 'prompt'],
  ['a prompt that is not text', { prompt: 42 }, 'prompt'],
  ['a prompt over the limit', { prompt: 'x'.repeat(PROMPT_MAX_LENGTH + 1) }, 'prompt'],
  ['a prompt with a control character', { prompt: 'a fox\u0007' }, 'prompt'],
  ['a prompt with a bidi override', { prompt: 'a fox \u202Egnp.exe' }, 'prompt'],
  ['an aspect ratio that is not W:H', { prompt: 'a fox', aspect_ratio: 'wide' }, 'aspect_ratio'],
  ["an aspect ratio beyond Midjourney's bounds", { prompt: 'a fox', aspect_ratio: '30:1' }, 'aspect_ratio'],
  ['a stylize out of range in params', { prompt: 'a fox', params: { stylize: 1001 } }, 'params.stylize'],
  ['an unknown parameter in params', { prompt: 'a fox', params: { repeat: 4 } }, 'params.repeat'],
  ['a parameter the model does not take', { prompt: 'a fox --v 6.1', params: { exp: 10 } }, 'params.exp'],
  ['an unknown parameter in the prompt', { prompt: 'a fox --hd' }, 'prompt'],
  ['an unknown quality', { prompt: 'a fox', quality: 'ultra' }, 'quality'],
  ['an unknown field', { prompt: 'a fox', model: 'v6' }, 'model'],
])('POST /api/imagine answers 400 naming the field for %s', async (_label, body, field) => {
  const { app } = await buildTestApp();
  const calls = countUpstreamCalls();

  const response = await request(app).post('/api/imagine').send(body);

  expect(response.status).toBe(400);
  const parsed = errorBodySchema.parse(response.body);
  expect(parsed.error.code).toBe('invalid_request');
  expect(parsed.error.fields?.map((issue) => issue.path)).toContain(field);
  expect(calls).toEqual([]);
});

test('POST /api/imagine accepts a prompt of exactly the limit', async () => {
  const { app } = await buildTestApp();

  const response = await request(app)
    .post('/api/imagine')
    .send({ prompt: 'x'.repeat(PROMPT_MAX_LENGTH) });

  expect(response.status).toBe(202);
});

test('POST /api/imagine answers 400 for a JSON array body', async () => {
  const { app } = await buildTestApp();

  const response = await request(app)
    .post('/api/imagine')
    .send([{ prompt: 'a fox' }]);

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('invalid_request');
});

test('POST /api/imagine answers 400 for malformed JSON', async () => {
  const { app } = await buildTestApp();

  const response = await request(app)
    .post('/api/imagine')
    .set('content-type', 'application/json')
    .send('{"prompt": "a fox"');

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('malformed_json');
});

test('POST /api/imagine answers 413 for a body over 16 KB and calls no upstream', async () => {
  const { app } = await buildTestApp();
  const calls = countUpstreamCalls();

  const response = await request(app)
    .post('/api/imagine')
    .send({ prompt: 'a fox', padding: 'x'.repeat(17 * 1024) });

  expect(response.status).toBe(413);
  expect(errorBodySchema.parse(response.body).error.code).toBe('payload_too_large');
  expect(calls).toEqual([]);
});

test('POST /api/imagine answers 415 for a body that is not JSON', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).post('/api/imagine').set('content-type', 'text/plain').send('prompt=a fox');

  expect(response.status).toBe(415);
  expect(errorBodySchema.parse(response.body).error.code).toBe('unsupported_media_type');
});

test.each([
  ['an encoded slash traversal', '..%2F..%2Fadmin'],
  ['encoded dots', '%2e%2e'],
  ['double-encoded dots', '%252e%252e'],
  ['a dot', 'job.1'],
  ['an encoded slash', 'a%2Fb'],
  ['a space', 'a%20b'],
  ['an encoded question mark', 'a%3Fx%3D1'],
  ['an encoded hash', 'a%23b'],
  ['a backslash', 'a%5Cb'],
  ['a unicode letter', 'caf%C3%A9'],
  ['an id of 129 characters', 'a'.repeat(129)],
  ['a malformed escape', '%E0%A4%A'],
])('GET /api/jobs/:id answers 400 for %s without calling the upstream', async (_label, id) => {
  const { app } = await buildTestApp();
  const calls = countUpstreamCalls();

  const response = await request(app).get(`/api/jobs/${id}`);

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('invalid_request');
  expect(calls).toEqual([]);
});

test.each([
  ['an encoded traversal', '..%2F..%2Fjobs.sqlite'],
  ['encoded dots', '%2e%2e%2fsession-secret'],
  ['a name without an image extension', 'abc.sqlite'],
  ['a hidden temp file', '.abc.png.1234.tmp'],
])('GET /api/images/:name answers 400 for %s', async (_label, name) => {
  const { app } = await buildTestApp();

  const response = await request(app).get(`/api/images/${name}`);

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('invalid_request');
});

test('GET /api/jobs/:id answers 404 for a well-formed id that does not exist', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).get(`/api/jobs/${'A_z-9'.repeat(25)}`);

  expect(response.status).toBe(404);
  expect(errorBodySchema.parse(response.body).error.code).toBe('not_found');
});

test('an unknown API route answers 404 in the shared error shape', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).get('/api/nothing-here').set('accept', 'text/html');

  expect(response.status).toBe(404);
  expect(errorBodySchema.parse(response.body).error.code).toBe('not_found');
});
