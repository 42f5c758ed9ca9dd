// The OpenAPI 3.1 document served at /api/openapi.json, generated (never written by hand) from
// the route table (http/openapi-routes.ts) and the shared zod schemas with zod-openapi, which
// converts them with zod 4's own JSON Schema output. Every error answer is the one error shape,
// its `code` narrowed to those the route can give with that status.
import { API_KEY_PREFIX, apiKeyListSchema, apiKeySchema, createdApiKeySchema } from '@shared/schemas/api-key';
import { type ErrorCode, errorBodySchema } from '@shared/schemas/error';
import { paramsInputSchema } from '@shared/schemas/imagine';
import { budgetSchema, jobListSchema, jobSchema, lineageSchema, paramsSchema } from '@shared/schemas/job';
import { sessionStateSchema } from '@shared/schemas/session';
import {
  blendRequestSchema,
  describeRequestSchema,
  imageReferenceSchema,
  jobReferenceSchema,
  uploadSchema,
} from '@shared/schemas/upload';
import { z } from 'zod';
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
// Only `version`, and without `with { type: 'json' }` (esbuild refuses named imports under it):
// the bundle (dist/server/index.js) keeps that one string, not the whole package.json.
import { version } from '../../../package.json';
import { SESSION_COOKIE } from './access';
import { paramsJsonSchema } from './openapi-params';
import { type Access, API_ROUTES, type ApiRoute, type ErrorStatus, type Tag } from './openapi-routes';
import { OWNER_COOKIE } from './owner';

export type OpenApiDocument = ReturnType<typeof createDocument>;

/** The `code`s, each in a phrase, for the answers' descriptions. */
const CODE_MEANINGS: Record<ErrorCode, string> = {
  invalid_request: 'invalid input (the fields at fault in `fields`)',
  unauthorized: 'no valid credentials: a wrong or revoked token or key, or none where ACCESS_TOKEN asks for one',
  forbidden: 'a cross-site request carrying cookies, or an API key where only the studio may act',
  misdirected: 'a Host name this server does not answer to',
  malformed_json: 'the body is not valid JSON',
  payload_too_large: 'the body is over the route’s limit',
  unsupported_media_type: 'the body is not of a type the route takes',
  not_found: 'no such thing for this caller (another owner’s is not found either)',
  conflict: 'it exists, but its state or this server’s set-up refuses the request',
  content_refused: 'the upstream’s filter refused the prompt',
  rate_limited:
    'a limit: the caller’s own, the full submission queue, the upstream’s, or too many wrong tokens or API keys (wait `retry_after_s`)',
  upstream_auth: 'the upstream refused the server’s key, or its account cannot take work now',
  upstream_timeout: 'the upstream did not answer in time',
  upstream_unavailable: 'the upstream is unreachable or failing',
  upstream_bad_response: 'the upstream’s answer could not be read',
  internal: 'a bug on the server',
};

/** What every route of a kind can answer before (or whatever) its own handler says. */
function guardErrors(access: Access, method: ApiRoute['method']): ApiRoute['errors'] {
  const common = { 421: ['misdirected'], 500: ['internal'] } as const;
  if (access === 'open') return common;
  const crossSite = method !== 'get' || access === 'studio';
  return { ...common, 401: ['unauthorized'], 429: ['rate_limited'], ...(crossSite ? { 403: ['forbidden'] } : {}) };
}

const SECURITY: Record<Access, oas31.SecurityRequirementObject[]> = {
  owner: [{ accessToken: [] }, { apiKey: [] }, { session: [] }, { owner: [] }],
  // An API key may not manage keys (403): only the studio's own credentials are listed.
  studio: [{ session: [] }, { owner: [] }, { accessToken: [] }],
  session: [],
  open: [],
};

const TAGS: { name: Tag; description: string }[] = [
  { name: 'jobs', description: 'The caller’s jobs: read, poll, search, favourite, cancel, delete; the shared budget' },
  { name: 'submissions', description: 'Prompts, actions, describe and blend: each makes a job' },
  { name: 'files', description: 'Kept results: images and clips, with ranges and caching' },
  { name: 'uploads', description: 'Images as input to submissions' },
  { name: 'keys', description: 'API keys for scripts and midjourney-proxy clients, made in the studio' },
  { name: 'session', description: 'Signing a browser in with ACCESS_TOKEN' },
  { name: 'reference', description: 'This document and its reference page' },
];

const DESCRIPTION = `Generate images with Midjourney through this server: it holds the upstream credentials, spends
the upstream key's budget, tracks every job and keeps its results. This document is generated from
the schemas the server validates with.

**Who you are.** Each caller is an owner that sees only its own jobs, uploads and images:
- \`Authorization: Bearer <ACCESS_TOKEN>\`: the access token's one owner (browsers signed in with it and
  relay clients using it are the same owner);
- \`Authorization: Bearer <API key>\`: a key made in the studio (\`mjk_…\`), an owner of its own, revoked at once;
- the \`${SESSION_COOKIE}\` cookie a browser gets from \`POST /api/session\`;
- without ACCESS_TOKEN (a server on loopback), the anonymous \`${OWNER_COOKIE}\` cookie set on the first request.

**Errors** have one shape everywhere: \`{ "error": { "code", "message", "retry_after_s"?, "fields"? } }\`;
each answer below lists the codes it can carry. A 429 also says \`Retry-After\`.`;

const binary = { type: 'string', format: 'binary' } as const;
const retryAfter = z.object({
  'Retry-After': z.string().meta({ description: 'Seconds to wait before trying again' }),
});
const contentRange = z.object({
  'Content-Range': z.string().meta({ description: '`bytes */<size>`: the size of the file' }),
});

const pascal = (code: string) =>
  code.replace(/(^|_)([a-z])/g, (_match, _start, letter: string) => letter.toUpperCase());

/** `{ error }` with `code` one of these, as a component named after them (`NotFoundError`). */
function errorComponents() {
  const detail = errorBodySchema.shape.error;
  const made = new Map<string, z.ZodType>();
  return {
    made,
    schemaFor(codes: readonly ErrorCode[]): z.ZodType {
      const name = `${[...codes].sort().map(pascal).join('Or')}Error`;
      const known = made.get(name);
      if (known) return known;
      const schema = z.object({ error: detail.extend({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]) }) });
      made.set(name, schema);
      return schema;
    },
  };
}

/** What express.json answers (http/error-handler.ts) before any route that takes a JSON body sees it. */
const JSON_BODY_ERRORS = {
  400: ['malformed_json'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
} as const satisfies ApiRoute['errors'];
/** The router's answer to a path parameter that is not valid percent-encoding (`%E0%A4%A`). */
const PATH_PARAM_ERRORS = { 400: ['invalid_request'] } as const satisfies ApiRoute['errors'];

/** The route's own errors, its guard's and those of how it reads its input, codes merged per status. */
function errorsOf(route: ApiRoute): [ErrorStatus, ErrorCode[]][] {
  const merged = new Map<ErrorStatus, Set<ErrorCode>>();
  const tables = [
    route.errors,
    guardErrors(route.access, route.method),
    route.body && 'json' in route.body ? JSON_BODY_ERRORS : {},
    route.params ? PATH_PARAM_ERRORS : {},
  ];
  for (const table of tables) {
    for (const [status, codes] of Object.entries(table) as [`${ErrorStatus}`, readonly ErrorCode[]][]) {
      const set = merged.get(Number(status) as ErrorStatus) ?? new Set();
      for (const code of codes) set.add(code);
      merged.set(Number(status) as ErrorStatus, set);
    }
  }
  return [...merged].sort(([a], [b]) => a - b).map(([status, codes]) => [status, [...codes]]);
}

/** `/jobs/:jobId` as OpenAPI writes it under /api: `/api/jobs/{jobId}`. */
export const documentPath = (routerPath: string): string => `/api${routerPath.replace(/:(\w+)/g, '{$1}')}`;

function operationOf(route: ApiRoute, errorSchema: (codes: readonly ErrorCode[]) => z.ZodType) {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    const content = answer.json
      ? { 'application/json': { schema: answer.json } }
      : answer.media
        ? Object.fromEntries(answer.media.map((type) => [type, { schema: binary }]))
        : undefined;
    responses[status] = {
      description: answer.description,
      ...(content ? { content } : {}),
      ...(answer.headers ? { headers: answer.headers } : {}),
    };
  }
  for (const [status, codes] of errorsOf(route)) {
    const headers = status === 429 ? retryAfter : status === 416 ? contentRange : undefined;
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\`: ${CODE_MEANINGS[code]}`).join('; '),
      content: { 'application/json': { schema: errorSchema(codes) } },
      ...(headers ? { headers } : {}),
    };
  }
  const operation: ZodOpenApiOperationObject = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: SECURITY[route.access],
    ...(route.params || route.query
      ? {
          requestParams: {
            ...(route.params ? { path: route.params } : {}),
            ...(route.query ? { query: route.query } : {}),
          },
        }
      : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content:
              'json' in route.body
                ? { 'application/json': { schema: route.body.json } }
                : Object.fromEntries(route.body.media.map((type) => [type, { schema: binary }])),
            ...('description' in route.body ? { description: route.body.description } : {}),
          },
        }
      : {}),
    responses: responses as ZodOpenApiOperationObject['responses'],
  };
  return operation;
}

/**
 * Named once, referred to wherever they are used, in the form used there. (The submission and
 * action requests, whose schemas transform what they read, are written out where they are taken.)
 */
const NAMED_SCHEMAS: [string, z.ZodType][] = [
  ['Job', jobSchema],
  ['JobList', jobListSchema],
  ['Lineage', lineageSchema],
  ['JobReference', jobReferenceSchema],
  ['Params', paramsSchema],
  ['Budget', budgetSchema],
  ['DescribeRequest', describeRequestSchema],
  ['BlendRequest', blendRequestSchema],
  ['ImageReference', imageReferenceSchema],
  ['Upload', uploadSchema],
  ['ApiKey', apiKeySchema],
  ['ApiKeyList', apiKeyListSchema],
  ['CreatedApiKey', createdApiKeySchema],
  ['SessionState', sessionStateSchema],
];

/**
 * Runs `make` with the named schemas' ids in zod's global registry, and gives the registry back
 * as it was. zod-openapi reads component ids from that registry only; its other way, schemas
 * handed in as `components`, renders each in both forms (a request's and an answer's) and names
 * the answer's `JobOutput`. So the ids are lent for the one synchronous build, and the shared
 * schemas, which the routes and the client also use, carry none afterwards.
 */
function withComponentIds<T>(named: readonly [string, z.ZodType][], make: () => T): T {
  const before = named.map(([, schema]) => z.globalRegistry.get(schema));
  named.forEach(([id, schema], i) => {
    z.globalRegistry.remove(schema).add(schema, { ...before[i], id });
  });
  try {
    return make();
  } finally {
    named.forEach(([, schema], i) => {
      z.globalRegistry.remove(schema);
      const meta = before[i];
      if (meta) z.globalRegistry.add(schema, meta);
    });
  }
}

function build(): OpenApiDocument {
  const errors = errorComponents();
  const paths: ZodOpenApiPathsObject = {};
  for (const route of API_ROUTES) {
    const key = documentPath(route.path);
    paths[key] = { ...paths[key], [route.method]: operationOf(route, (codes) => errors.schemaFor(codes)) };
  }
  return withComponentIds(NAMED_SCHEMAS, () =>
    createDocument(
      {
        openapi: '3.1.0',
        info: { title: 'mj-studio API', version, description: DESCRIPTION },
        tags: TAGS,
        security: SECURITY.owner,
        paths,
        components: {
          securitySchemes: {
            accessToken: {
              type: 'http',
              scheme: 'bearer',
              description:
                'ACCESS_TOKEN as `Authorization: Bearer <token>`: the token’s one owner. Scripts send no Origin: the cross-site check is for cookies.',
            },
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description: `An API key made in the studio (\`${API_KEY_PREFIX}…\`) as \`Authorization: Bearer <key>\`: an owner of its own, with or without ACCESS_TOKEN; it cannot manage keys.`,
            },
            session: {
              type: 'apiKey',
              in: 'cookie',
              name: SESSION_COOKIE,
              description: 'A browser signed in with the access token (POST /api/session)',
            },
            owner: {
              type: 'apiKey',
              in: 'cookie',
              name: OWNER_COOKIE,
              description: 'Without ACCESS_TOKEN: the anonymous owner, set (signed, HttpOnly) on the first request',
            },
          },
          schemas: Object.fromEntries(errors.made),
        },
      },
      {
        // The parameters are checked with the table's own functions, which JSON Schema cannot
        // see into: their schema is made from the table instead.
        override: ({ zodSchema, jsonSchema }) => {
          const io = zodSchema === paramsSchema ? 'output' : zodSchema === paramsInputSchema ? 'input' : undefined;
          if (!io) return;
          for (const key of Object.keys(jsonSchema)) delete jsonSchema[key as keyof typeof jsonSchema];
          Object.assign(jsonSchema, paramsJsonSchema(io));
        },
      },
    ),
  );
}

let built: OpenApiDocument | undefined;

/** The document: the same for every configuration of the server, so made once. */
export function openApiDocument(): OpenApiDocument {
  built ??= build();
  return built;
}
