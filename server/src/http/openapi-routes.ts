// The one table of the /api routes, for the OpenAPI document (http/openapi.ts builds it): each
// route's method and path as the router writes them, its parameters, body, answers and the
// error codes it can give, all from the shared schemas the routes validate with. A route the
// router serves that is missing here, or listed here and not served, fails the tests
// (tests/server/openapi-document.test.ts walks the router), so the two cannot drift apart.
import { accountListSchema } from '@shared/schemas/account';
import {
  apiKeyIdSchema,
  apiKeyListSchema,
  createApiKeyRequestSchema,
  createdApiKeySchema,
} from '@shared/schemas/api-key';
import type { ErrorCode } from '@shared/schemas/error';
import { imagineRequestSchema } from '@shared/schemas/imagine';
import {
  budgetSchema,
  imageNameSchema,
  jobActionRequestSchema,
  jobIdSchema,
  jobListQuerySchema,
  jobListSchema,
  jobSchema,
  lineageSchema,
  videoNameSchema,
} from '@shared/schemas/job';
import { sessionStateSchema, signInSchema } from '@shared/schemas/session';
import {
  blendRequestSchema,
  describeRequestSchema,
  UPLOAD_BODY_TYPES,
  UPLOAD_IMAGE_TYPES,
  uploadIdSchema,
  uploadSchema,
} from '@shared/schemas/upload';
import { z } from 'zod';
import { REFERENCE_FILE_NAMES } from './reference-page';

export type Method = 'get' | 'put' | 'post' | 'delete';
export type SuccessStatus = 200 | 201 | 202 | 204 | 206 | 304;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 416 | 421 | 422 | 429 | 500 | 502 | 504;
/**
 * Who may call it: `owner` routes act for the caller's owner (a bearer token or key, a session,
 * or the anonymous owner cookie); `studio` ones too, but never for an API key (403); `session`
 * ones need no credentials; `open` ones need none and make no owner.
 */
export type Access = 'owner' | 'studio' | 'session' | 'open';
export type Tag = 'jobs' | 'submissions' | 'files' | 'uploads' | 'keys' | 'session' | 'reference';

export interface Answer {
  description: string;
  /** A JSON body of this schema. */
  json?: z.ZodType;
  /** A body of one of these media types (an image, a video, a page). */
  media?: readonly string[];
  headers?: z.ZodObject;
}

export interface ApiRoute {
  method: Method;
  /** As the /api router writes it: `/jobs/:jobId`. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  access: Access;
  /** Path parameters: the router's 400 for a broken percent-encoding is added to the errors. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body (express.json reads it: its 400, 413 and 415 are added to the errors) or raw bytes. */
  body?: { json: z.ZodType } | { media: readonly string[]; description: string };
  answers: Partial<Record<SuccessStatus, Answer>>;
  /** What the route itself answers; its guard's and its input's errors are added (http/openapi.ts). */
  errors: Partial<Record<ErrorStatus, readonly ErrorCode[]>>;
}

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
const VIDEO_TYPES = ['video/webm', 'video/mp4'] as const;

const location = (what: string) => z.object({ Location: z.string().meta({ description: `The URL of ${what}` }) });
const jobPath = z.object({ jobId: jobIdSchema });
const uploadPath = z.object({ uploadId: uploadIdSchema });
const download = z.object({
  download: z
    .string()
    .optional()
    .meta({ description: 'Present (any value, or none): sent as an attachment named after the prompt' }),
});

/** What a file route answers: the file, a range of it, or "not modified". */
const fileAnswers = (what: string, media: readonly string[]): Partial<Record<SuccessStatus, Answer>> => ({
  200: { description: what, media },
  206: { description: `A byte range of ${what.toLowerCase()} (\`Range\` honoured)`, media },
  304: { description: 'Not modified since the `If-None-Match` or `If-Modified-Since` given' },
});
const FILE_ERRORS = { 400: ['invalid_request'], 404: ['not_found'], 416: ['invalid_request'] } as const;

/**
 * What a submission can answer besides 202: input, the owner's limits, and the upstream's own
 * refusal (what reading a JSON body can answer is added to every route that takes one).
 */
const SUBMISSION_ERRORS = {
  400: ['invalid_request'],
  404: ['not_found'],
  409: ['conflict'],
  422: ['content_refused'],
  429: ['rate_limited'],
  502: ['upstream_auth', 'upstream_unavailable', 'upstream_bad_response'],
  504: ['upstream_timeout'],
} as const;
const SUBMITTED: Partial<Record<SuccessStatus, Answer>> = {
  202: {
    description:
      'The new job: sent to the upstream at once when the budget allows (`pending`), else queued (`queued`, with `queue_position`)',
    json: jobSchema,
    headers: location('the job, to poll'),
  },
};
const SUBMISSION_NOTE =
  'Counts against the caller’s per-client limits (a costlier job counts more); when sent at once, the upstream’s own refusal is the answer.';

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/jobs',
    operationId: 'listJobs',
    tag: 'jobs',
    summary: 'The caller’s jobs, newest first, searched and filtered',
    description: 'A page at a time: pass `next_cursor` as `cursor` with the same filter for the next one.',
    access: 'owner',
    query: jobListQuerySchema,
    answers: { 200: { description: 'A page of jobs', json: jobListSchema } },
    errors: { 400: ['invalid_request'] },
  },
  {
    method: 'get',
    path: '/jobs/:jobId',
    operationId: 'getJob',
    tag: 'jobs',
    summary: 'One job, to poll until it ends',
    description:
      'Read from the store: a poll never causes an upstream call. While it runs, `poll_after_ms` says when asking again is worthwhile.',
    access: 'owner',
    params: jobPath,
    answers: { 200: { description: 'The job', json: jobSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'get',
    path: '/jobs/:jobId/preview',
    operationId: 'getJobPreview',
    tag: 'jobs',
    summary: 'The upstream’s low-resolution preview of a running job',
    description: 'Fetched through this server (the upstream’s links never reach the caller); 404 once there is none.',
    access: 'owner',
    params: jobPath,
    query: z.object({
      at: z.string().optional().meta({ description: 'The progress it shows (as `preview_url` writes it), for caches' }),
    }),
    answers: { 200: { description: 'The preview image', media: IMAGE_TYPES } },
    errors: {
      400: ['invalid_request'],
      404: ['not_found'],
      502: ['upstream_unavailable', 'upstream_bad_response'],
      504: ['upstream_timeout'],
    },
  },
  {
    method: 'get',
    path: '/jobs/:jobId/lineage',
    operationId: 'getJobLineage',
    tag: 'jobs',
    summary: 'The jobs a job came from (oldest first) and those made from it',
    access: 'owner',
    params: jobPath,
    answers: { 200: { description: 'Its ancestors and children', json: lineageSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'put',
    path: '/jobs/:jobId/favourite',
    operationId: 'markFavourite',
    tag: 'jobs',
    summary: 'Marks a job as a favourite',
    access: 'owner',
    params: jobPath,
    answers: { 200: { description: 'The job, marked', json: jobSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'delete',
    path: '/jobs/:jobId/favourite',
    operationId: 'unmarkFavourite',
    tag: 'jobs',
    summary: 'Unmarks a favourite',
    access: 'owner',
    params: jobPath,
    answers: { 200: { description: 'The job, no longer marked', json: jobSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'post',
    path: '/jobs/:jobId/cancel',
    operationId: 'cancelJob',
    tag: 'jobs',
    summary: 'Cancels a running job (the upstream is asked to cancel too)',
    access: 'owner',
    params: jobPath,
    answers: { 200: { description: 'The cancelled job', json: jobSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'], 409: ['conflict'] },
  },
  {
    method: 'delete',
    path: '/jobs/:jobId',
    operationId: 'deleteJob',
    tag: 'jobs',
    summary: 'Deletes a job and its kept image',
    access: 'owner',
    params: jobPath,
    answers: { 204: { description: 'Gone' } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'get',
    path: '/budget',
    operationId: 'getBudget',
    tag: 'jobs',
    summary: 'The upstream budget: calls used in the window by the accounts in rotation, the submission queue',
    access: 'owner',
    answers: { 200: { description: 'The budget now', json: budgetSchema } },
    errors: {},
  },
  {
    method: 'get',
    path: '/accounts',
    operationId: 'listAccounts',
    tag: 'jobs',
    summary: 'Each upstream account: state, why it is down, budget in use, running and queued jobs, last error',
    description: 'Never an address or a secret. A single upstream (no `ACCOUNTS_FILE`) is one account.',
    access: 'owner',
    answers: { 200: { description: 'The accounts now', json: accountListSchema } },
    errors: {},
  },
  {
    method: 'post',
    path: '/imagine',
    operationId: 'imagine',
    tag: 'submissions',
    summary: 'Submits a prompt',
    description: `Parameters may be written in the prompt (\`--ar 3:2 --s 250\`) and/or given as \`params\`. ${SUBMISSION_NOTE}`,
    access: 'owner',
    body: { json: imagineRequestSchema },
    answers: SUBMITTED,
    errors: SUBMISSION_ERRORS,
  },
  {
    method: 'post',
    path: '/jobs/:jobId/actions',
    operationId: 'actOnJob',
    tag: 'submissions',
    summary: 'Takes an action a finished job offers (upscale, vary, zoom, pan, animate …): a new job',
    description: `The job’s \`available_actions\` lists what it offers; anything else is a 409 that names them. ${SUBMISSION_NOTE}`,
    access: 'owner',
    params: jobPath,
    body: { json: jobActionRequestSchema },
    answers: SUBMITTED,
    errors: SUBMISSION_ERRORS,
  },
  {
    method: 'post',
    path: '/describe',
    operationId: 'describeImage',
    tag: 'submissions',
    summary: 'Four candidate prompts for one of the caller’s images (relays)',
    description: SUBMISSION_NOTE,
    access: 'owner',
    body: { json: describeRequestSchema },
    answers: SUBMITTED,
    errors: SUBMISSION_ERRORS,
  },
  {
    method: 'post',
    path: '/blend',
    operationId: 'blendImages',
    tag: 'submissions',
    summary: 'A grid that blends 2 to 5 of the caller’s images (relays)',
    description: SUBMISSION_NOTE,
    access: 'owner',
    body: { json: blendRequestSchema },
    answers: SUBMITTED,
    errors: SUBMISSION_ERRORS,
  },
  {
    method: 'get',
    path: '/images/:name',
    operationId: 'getImage',
    tag: 'files',
    summary: 'A job’s kept image (its `image_url`)',
    access: 'owner',
    params: z.object({ name: imageNameSchema }),
    query: download,
    answers: fileAnswers('The image', IMAGE_TYPES),
    errors: FILE_ERRORS,
  },
  {
    method: 'get',
    path: '/videos/:name',
    operationId: 'getVideo',
    tag: 'files',
    summary: 'A video job’s kept clip (its `video_url`)',
    access: 'owner',
    params: z.object({ name: videoNameSchema }),
    query: download,
    answers: fileAnswers('The clip', VIDEO_TYPES),
    errors: FILE_ERRORS,
  },
  {
    method: 'post',
    path: '/uploads',
    operationId: 'uploadImage',
    tag: 'uploads',
    summary: 'Uploads an image to use in submissions',
    description:
      'Judged by its bytes (PNG, JPEG or WebP), at most `UPLOAD_MAX_BYTES` and 40 megapixels, kept without metadata. Counts against the caller’s limits like a submission.',
    access: 'owner',
    body: {
      media: UPLOAD_BODY_TYPES,
      description: 'The image itself as the body (not a form)',
    },
    answers: { 201: { description: 'The kept upload', json: uploadSchema, headers: location('the upload') } },
    errors: {
      400: ['invalid_request'],
      413: ['payload_too_large'],
      415: ['unsupported_media_type'],
      429: ['rate_limited'],
    },
  },
  {
    method: 'get',
    path: '/uploads/:uploadId',
    operationId: 'getUpload',
    tag: 'uploads',
    summary: 'One of the caller’s uploads',
    access: 'owner',
    params: uploadPath,
    answers: { 200: { description: 'The upload', json: uploadSchema } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'get',
    path: '/uploads/:uploadId/image',
    operationId: 'getUploadImage',
    tag: 'uploads',
    summary: 'An upload’s kept copy (its `url`)',
    access: 'owner',
    params: uploadPath,
    answers: fileAnswers('The image', UPLOAD_IMAGE_TYPES),
    errors: FILE_ERRORS,
  },
  {
    method: 'delete',
    path: '/uploads/:uploadId',
    operationId: 'deleteUpload',
    tag: 'uploads',
    summary: 'Deletes an upload',
    access: 'owner',
    params: uploadPath,
    answers: { 204: { description: 'Gone' } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'get',
    path: '/keys',
    operationId: 'listKeys',
    tag: 'keys',
    summary: 'The API keys the caller made, newest first, revoked ones included',
    access: 'studio',
    answers: { 200: { description: 'The keys (never their secrets)', json: apiKeyListSchema } },
    errors: {},
  },
  {
    method: 'post',
    path: '/keys',
    operationId: 'createKey',
    tag: 'keys',
    summary: 'Makes an API key: its secret is in this answer and nowhere else, ever',
    description:
      'A key is an owner of its own: scripts send it as `Authorization: Bearer <secret>` on /api, midjourney-proxy clients as `mj-api-secret` on /mj.',
    access: 'studio',
    body: { json: createApiKeyRequestSchema },
    answers: { 201: { description: 'The key and its secret', json: createdApiKeySchema } },
    errors: { 400: ['invalid_request'], 409: ['conflict'] },
  },
  {
    method: 'delete',
    path: '/keys/:keyId',
    operationId: 'revokeKey',
    tag: 'keys',
    summary: 'Revokes a key, at once: its next request is a 401',
    access: 'studio',
    params: z.object({ keyId: apiKeyIdSchema }),
    answers: { 204: { description: 'Revoked (revoking again changes nothing)' } },
    errors: { 400: ['invalid_request'], 404: ['not_found'] },
  },
  {
    method: 'get',
    path: '/session',
    operationId: 'getSession',
    tag: 'session',
    summary: 'Whether this server wants the access token, and whether the caller has signed in',
    access: 'session',
    answers: { 200: { description: 'The session state', json: sessionStateSchema } },
    errors: {},
  },
  {
    method: 'post',
    path: '/session',
    operationId: 'signIn',
    tag: 'session',
    summary: 'Signs a browser in with the access token (sets the `mj_session` cookie)',
    access: 'session',
    body: { json: signInSchema },
    answers: {
      204: {
        description: 'Signed in',
        headers: z.object({
          'Set-Cookie': z.string().meta({ description: 'The signed, HttpOnly `mj_session` cookie' }),
        }),
      },
    },
    errors: { 400: ['invalid_request'], 401: ['unauthorized'], 404: ['not_found'], 429: ['rate_limited'] },
  },
  {
    method: 'delete',
    path: '/session',
    operationId: 'signOut',
    tag: 'session',
    summary: 'Signs out (ends the session)',
    access: 'session',
    answers: { 204: { description: 'Signed out' } },
    errors: {},
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'reference',
    summary: 'This document',
    access: 'open',
    answers: {
      200: {
        description: 'The OpenAPI 3.1 document, generated from the schemas the server validates with',
        json: z.looseObject({
          openapi: z.string(),
          info: z.looseObject({ title: z.string() }),
          paths: z.looseObject({}),
        }),
      },
      304: { description: 'Not modified since the `If-None-Match` given' },
    },
    errors: {},
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getReferencePage',
    tag: 'reference',
    summary: 'The interactive reference page (Swagger UI) on this document',
    access: 'open',
    answers: { 200: { description: 'The page', media: ['text/html'] } },
    errors: {},
  },
  {
    method: 'get',
    path: '/docs/:file',
    operationId: 'getReferenceFile',
    tag: 'reference',
    summary: 'A script or style sheet of the reference page',
    access: 'open',
    params: z.object({ file: z.enum(REFERENCE_FILE_NAMES) }),
    answers: {
      200: { description: 'The file', media: ['text/javascript', 'text/css'] },
      304: { description: 'Not modified since the `If-None-Match` given' },
    },
    errors: { 404: ['not_found'] },
  },
];
