// The OpenAPI document at /api/openapi.json and the reference page at /api/docs: the document is
// valid OpenAPI 3.1 with schemas valid as JSON Schema 2020-12, it and the router list the same
// routes (the router's stack walked), every error answer is the one shape, and the page holds
// nothing inline, lives under the page CSP and needs no credentials.
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERROR_CODES } from '@shared/schemas/error';
import { jobSchema, lineageSchema } from '@shared/schemas/job';
import type { Express } from 'express';
import request from 'supertest';
import { expect, test } from 'vitest';
import { z } from 'zod';
import { documentPath, type OpenApiDocument, openApiDocument } from '../../server/src/http/openapi';
import { operationsOf, schemaCompiler } from '../support/openapi-check';
import { appsClosedAfterEach, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';

const app = appsClosedAfterEach();

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** `METHOD /api/path` for every route on the router mounted at /api, as Express holds them. */
function servedRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const api = stack.find((layer) => layer.rawPath === '/api' && Array.isArray(layer.handle.stack));
  if (!api?.handle.stack) throw new Error('no router mounted at /api');
  return api.handle.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((method) => method !== '_all')
          .map((method) => `${method} ${documentPath(String(layer.route?.path))}`)
      : [],
  );
}

interface Operation {
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface ErrorComponent {
  properties: { error: { properties: { code: { enum?: string[] } } } };
}

const documentedRoutes = (document: OpenApiDocument) =>
  operationsOf(document).map((operation) => `${operation.method} ${operation.path}`);

test('GET /api/openapi.json answers the document, which validates as OpenAPI 3.1', async () => {
  const { app: express } = await app();

  const response = await request(express).get('/api/openapi.json');
  const validator = new Validator();
  const result = await validator.validate(response.body);

  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
});

test('every schema in the document compiles as strict JSON Schema 2020-12', () => {
  const document = openApiDocument();
  const compile = schemaCompiler(document);
  const schemas = [
    ...Object.values(document.components?.schemas ?? {}),
    ...operationsOf(document).flatMap((operation) =>
      Object.values(operation.responses).flatMap((answer) =>
        Object.values(answer.content ?? {}).map((media) => media.schema),
      ),
    ),
  ];

  const failures = schemas.flatMap((schema) => {
    try {
      compile(schema);
      return [];
    } catch (error) {
      return [`${JSON.stringify(schema).slice(0, 120)}: ${String(error)}`];
    }
  });

  expect(schemas.length).toBeGreaterThan(40);
  expect(failures).toEqual([]);
});

test('every route the /api router serves is in the document, and every operation in it is served', async () => {
  const { app: express } = await app();

  const served = servedRoutes(express);
  const documented = documentedRoutes(openApiDocument());

  expect(served.length).toBeGreaterThan(20);
  expect([...documented].sort()).toEqual([...new Set(served)].sort());
  expect(new Set(documented).size).toBe(documented.length);
});

test('the router walk sees what is served: a route added to /api and not to the document is caught', async () => {
  const { app: express } = await app();
  const stack = (express as unknown as { router: { stack: Layer[] } }).router.stack;
  const api = stack.find((layer) => layer.rawPath === '/api');
  const router = api?.handle as unknown as import('express').Router;

  router.get('/undocumented', (_req, res) => res.json({}));
  const served = servedRoutes(express);

  expect(served).toContain('get /api/undocumented');
  expect(documentedRoutes(openApiDocument())).not.toContain('get /api/undocumented');
});

test('every operation has an id, a summary, a success answer and errors in the one shape, with its codes', () => {
  const operations = operationsOf(openApiDocument());
  const document = openApiDocument();

  const problems = operations.flatMap((operation) => {
    const statuses = Object.keys(operation.responses).map(Number);
    const errors = statuses.filter((status) => status >= 400);
    const found: string[] = [];
    if (!operation.operationId) found.push(`${operation.path}: no operationId`);
    if (!statuses.some((status) => status < 400)) found.push(`${operation.operationId}: no success answer`);
    if (!errors.includes(500)) found.push(`${operation.operationId}: no 500`);
    for (const status of errors) {
      const schema = operation.responses[String(status)]?.content?.['application/json']?.schema as { $ref?: string };
      const name = schema?.$ref?.replace('#/components/schemas/', '') ?? '';
      const component = document.components?.schemas?.[name] as
        | { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }
        | undefined;
      const codes = component?.properties?.error?.properties?.code?.enum ?? [];
      if (codes.length === 0 || codes.some((code) => !(ERROR_CODES as readonly string[]).includes(code))) {
        found.push(`${operation.operationId} ${status}: not the error shape (${name})`);
      }
    }
    return found;
  });

  expect(operations.length).toBeGreaterThan(20);
  expect(problems).toEqual([]);
});

test('every operation taking a JSON body lists what express.json answers, and every one with a path parameter a 400', () => {
  const document = openApiDocument();
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const codesAt = (operation: Operation, status: number) => {
    const name = operation.responses[String(status)]?.content?.['application/json']?.schema?.$ref?.split('/').pop();
    const component = document.components?.schemas?.[name ?? ''] as ErrorComponent | undefined;
    return component?.properties.error.properties.code.enum ?? [];
  };

  const missing = Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) => {
      const json = operation.requestBody?.content?.['application/json'] !== undefined;
      const params = path.includes('{');
      return [
        ...(json && !codesAt(operation, 400).includes('malformed_json')
          ? [`${method} ${path}: 400 malformed_json`]
          : []),
        ...(json && !codesAt(operation, 413).includes('payload_too_large') ? [`${method} ${path}: 413`] : []),
        ...(json && !codesAt(operation, 415).includes('unsupported_media_type') ? [`${method} ${path}: 415`] : []),
        ...(params && !codesAt(operation, 400).includes('invalid_request') ? [`${method} ${path}: 400`] : []),
      ];
    }),
  );

  expect(missing).toEqual([]);
});

test('the document names the auth schemes: the access token, API keys, the session and owner cookies', () => {
  const document = openApiDocument();

  const schemes = document.components?.securitySchemes ?? {};

  expect(schemes).toMatchObject({
    accessToken: { type: 'http', scheme: 'bearer' },
    apiKey: { type: 'http', scheme: 'bearer' },
    session: { type: 'apiKey', in: 'cookie', name: 'mj_session' },
    owner: { type: 'apiKey', in: 'cookie', name: 'mj_owner' },
  });
  expect(JSON.stringify(schemes.accessToken)).toMatch(/ACCESS_TOKEN/);
  expect(JSON.stringify(schemes.apiKey)).toMatch(/API key.*mjk_/);
  expect(document.security).toEqual([{ accessToken: [] }, { apiKey: [] }, { session: [] }, { owner: [] }]);
});

test('each operation lists only the schemes it accepts: the /keys routes never an API key', () => {
  const paths = openApiDocument().paths as Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
  const schemesOf = (method: string, path: string) =>
    (paths[path]?.[method]?.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();

  const keyRoutes = operationsOf(openApiDocument()).filter((operation) => operation.path.startsWith('/api/keys'));

  expect(keyRoutes.map((operation) => schemesOf(operation.method, operation.path))).toEqual([
    ['accessToken', 'owner', 'session'],
    ['accessToken', 'owner', 'session'],
    ['accessToken', 'owner', 'session'],
  ]);
  expect(schemesOf('get', '/api/jobs')).toEqual(['accessToken', 'apiKey', 'owner', 'session']);
  expect(schemesOf('get', '/api/openapi.json')).toEqual([]);
});

test('with ACCESS_TOKEN set, the document and the page still need no credentials, and neither makes an owner', async () => {
  const { app: express } = await app({ security: { accessToken: TOKEN } });

  const answers = await Promise.all(
    ['/api/openapi.json', '/api/docs', '/api/docs/reference.js'].map((path) => request(express).get(path)),
  );
  const jobs = await request(express).get('/api/jobs');

  expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
  expect(answers.map((answer) => answer.headers['set-cookie'])).toEqual([undefined, undefined, undefined]);
  expect(jobs.status).toBe(401);
});

test('GET /api/docs is the reference page: no inline script or style, under the page CSP', async () => {
  const { app: express } = await app();

  const page = await request(express).get('/api/docs');
  const html = page.text;
  const csp = String(page.headers['content-security-policy']);

  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(html.match(/<script\b[^>]*>/g)).toEqual([
    '<script src="/api/docs/swagger-ui-bundle.js">',
    '<script src="/api/docs/reference.js">',
  ]);
  expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
  expect(html).not.toMatch(/<style\b|\sstyle=|\son\w+=/i);
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain('unsafe');
});

test('the page loads Swagger UI from the installed swagger-ui-dist and our own start script, gzipped when asked', async () => {
  const { app: express } = await app();

  // (msw's interceptor, which every request here passes, cannot hand on the bundle gzipped; the
  // browser tests load it so.)
  const bundle = await request(express).get('/api/docs/swagger-ui-bundle.js').set('accept-encoding', 'identity');
  const css = await request(express).get('/api/docs/swagger-ui.css').set('accept-encoding', 'gzip');
  const start = await request(express).get('/api/docs/reference.js');

  expect(bundle.status).toBe(200);
  expect(bundle.headers['content-encoding']).toBeUndefined();
  expect(bundle.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(bundle.text).toContain('SwaggerUIBundle');
  expect(css.headers['content-encoding']).toBe('gzip');
  expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  expect(css.text).toContain('.swagger-ui');
  expect(start.text).toContain('url: "/api/openapi.json"');
  expect(start.text).toContain('queryConfigEnabled: false');
});

test('a reference file answers 304 to its own ETag, and an unknown one is a 404 in the error shape', async () => {
  const { app: express } = await app();
  const first = await request(express).get('/api/docs/reference.css');

  const again = await request(express).get('/api/docs/reference.css').set('if-none-match', String(first.headers.etag));
  const unknown = await request(express).get('/api/docs/package.json');
  const outside = await request(express).get('/api/docs/..%2Fopenapi.json');

  expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  expect(again.status).toBe(304);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('not_found');
  expect(outside.status).toBe(404);
});

test('the gzip copy of a reference file has an ETag of its own, and each copy revalidates with its own', async () => {
  const { app: express } = await app();
  const get = (encoding: string) => request(express).get('/api/docs/swagger-ui.css').set('accept-encoding', encoding);
  const plain = await get('identity');
  const zipped = await get('gzip');

  const plainAgain = await get('identity').set('if-none-match', String(plain.headers.etag));
  const zippedAgain = await get('gzip').set('if-none-match', String(zipped.headers.etag));
  const crossed = await get('identity').set('if-none-match', String(zipped.headers.etag));

  expect(zipped.headers['content-encoding']).toBe('gzip');
  expect(zipped.headers.etag).not.toBe(plain.headers.etag);
  expect([plainAgain.status, zippedAgain.status, crossed.status]).toEqual([304, 304, 200]);
  expect(crossed.headers['content-encoding']).toBeUndefined();
});

test('GET /api/openapi.json carries an ETag, answers 304 to it, and comes gzipped when asked', async () => {
  const { app: express } = await app();
  const first = await request(express).get('/api/openapi.json').set('accept-encoding', 'identity');
  const zipped = await request(express).get('/api/openapi.json').set('accept-encoding', 'gzip');

  const again = await request(express)
    .get('/api/openapi.json')
    .set('accept-encoding', 'identity')
    .set('if-none-match', String(first.headers.etag));

  expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  expect(first.headers['cache-control']).toBe('no-cache');
  expect(again.status).toBe(304);
  expect(zipped.headers['content-encoding']).toBe('gzip');
  expect(zipped.headers.etag).not.toBe(first.headers.etag);
  expect(zipped.body).toEqual(first.body);
});

test("building the document leaves zod's global registry as it was: no shared schema keeps a component id", () => {
  const document = openApiDocument();

  const left = [jobSchema, lineageSchema].map((schema) => z.globalRegistry.get(schema));

  expect(Object.keys(document.components?.schemas ?? {})).toEqual(expect.arrayContaining(['Job', 'Lineage']));
  expect(left).toEqual([undefined, undefined]);
});
