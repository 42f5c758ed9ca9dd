// An msw-mocked Legnext API (docs/upstreams.md#paid-hosted-apis): the x-api-key checked on every
// call, jobs that walk pending, staged, processing, completed one status check at a time, grid
// actions on finished grids, and refusals on demand (a sensitive word, no credits, a rate limit).
import { HttpResponse, http } from 'msw';
import { server } from './node';

export const LEGNEXT = 'https://legnext.test';
export const LEGNEXT_KEY = 'lnx_test_5b2e9d41c7a8f0e3';
export const LEGNEXT_CDN = 'https://cdn.legnext.test';
/** A word the fake's content filter refuses with 403. */
export const LEGNEXT_SENSITIVE_WORD = 'forbidden';

/** One fake job: the statuses its checks walk through (the last one stays), and how it fails. */
export interface LegnextFakeJob {
  id: string;
  taskType: 'diffusion' | 'upscale' | 'variation' | 'reroll';
  steps: string[];
  checks: number;
  callback?: string | undefined;
  failure?: { code: number; message: string } | undefined;
}

const WALK = ['pending', 'staged', 'processing', 'completed'];
const GRID_IMAGES = [0, 1, 2, 3];

const flatError = (code: number, message: string) => ({ code, message, raw_message: message, detail: null });

/** Legnext's job object, as its submissions, actions and status checks answer it. */
function taskOf(job: LegnextFakeJob) {
  const status = job.steps[Math.min(job.checks, job.steps.length - 1)] ?? 'pending';
  const done = status === 'completed';
  const signed = (n: number) => `${LEGNEXT_CDN}/mj/${job.id}_${n}.png?Expires=1761102268&Signature=c2lnbmVk`;
  const grid = job.taskType !== 'upscale';
  const output = !done
    ? status === 'failed'
      ? null
      : { image_url: '', image_urls: null, seed: '' }
    : grid
      ? {
          image_url: `${LEGNEXT_CDN}/temp/${job.id}.png`,
          image_urls: GRID_IMAGES.map(signed),
          seed: '1904983176',
          available_actions: {
            edit: GRID_IMAGES,
            inpaint: GRID_IMAGES,
            outpaint: GRID_IMAGES,
            pan: GRID_IMAGES,
            remix: GRID_IMAGES,
            reroll: true,
            upscale: GRID_IMAGES,
            variation: GRID_IMAGES,
          },
        }
      : { image_url: signed(0), image_urls: null, seed: '1904983176' };
  const failure = status === 'failed' ? (job.failure ?? { code: 500, message: 'Generation failed' }) : undefined;
  return {
    job_id: job.id,
    model: 'midjourney',
    task_type: job.taskType,
    status,
    config: { service_mode: 'public', webhook_config: { endpoint: job.callback ?? '', secret: '' } },
    input: null,
    output,
    meta: {
      created_at: '2026-01-04T05:54:17Z',
      started_at: '0001-01-01T00:00:00Z',
      ended_at: '0001-01-01T00:00:00Z',
      usage: { type: 'point', frozen: 80, consume: done ? 80 : 0 },
    },
    detail: null,
    logs: [],
    error: failure ? { ...flatError(failure.code, failure.message) } : flatError(0, ''),
  };
}

/** A refusal the way Legnext sends 402 and 403: a failed job object with no id and the error's code. */
const refusedTask = (code: number, message: string) =>
  HttpResponse.json(
    { ...taskOf({ id: '', taskType: 'diffusion', steps: ['failed'], checks: 0, failure: { code, message } }) },
    { status: code },
  );

export interface LegnextMock {
  sent: { path: string; apiKey: string | null; body: Record<string, unknown> }[];
  jobs: Map<string, LegnextFakeJob>;
  /** Credits left on the account: each accepted job takes one; at 0 the next is refused with 402. */
  credits: number;
  /** The next call is refused with 429 (with this Retry-After header, where given). */
  rateLimitNext(retryAfter?: string): void;
}

export function mockLegnextUpstream(): LegnextMock {
  let next = 0;
  let rateLimit: { retryAfter?: string | undefined } | undefined;
  const mock: LegnextMock = {
    sent: [],
    jobs: new Map(),
    credits: Number.POSITIVE_INFINITY,
    rateLimitNext(retryAfter) {
      rateLimit = { retryAfter };
    },
  };

  /** The key and the rate limit, before anything else; answers the refusal or undefined. */
  const gate = (request: Request): Response | undefined => {
    if (request.headers.get('x-api-key') !== LEGNEXT_KEY) {
      return HttpResponse.json(flatError(401, 'Invalid API key'), { status: 401 });
    }
    if (rateLimit) {
      const headers: Record<string, string> = rateLimit.retryAfter ? { 'retry-after': rateLimit.retryAfter } : {};
      rateLimit = undefined;
      return HttpResponse.json(flatError(429, 'Too many requests'), { status: 429, headers });
    }
    return undefined;
  };

  const read = async (path: string, request: Request): Promise<Record<string, unknown> | Response> => {
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      body = undefined;
    }
    const record = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    mock.sent.push({ path, apiKey: request.headers.get('x-api-key'), body: record });
    return gate(request) ?? record;
  };

  const accept = (taskType: LegnextFakeJob['taskType'], body: Record<string, unknown>) => {
    if (mock.credits <= 0) return refusedTask(402, 'Insufficient credits, please top up your balance');
    mock.credits -= 1;
    next += 1;
    const job: LegnextFakeJob = {
      id: `7c0e4a1b-0000-4000-8000-${String(next).padStart(12, '0')}`,
      taskType,
      steps: WALK,
      checks: 0,
      callback: typeof body.callback === 'string' ? body.callback : undefined,
    };
    mock.jobs.set(job.id, job);
    return HttpResponse.json(taskOf(job));
  };

  const invalid = (message: string) => HttpResponse.json(flatError(400, message), { status: 400 });

  /** The finished grid an action names, or the refusal. */
  const gridOf = (body: Record<string, unknown>, indexed: boolean): Response | undefined => {
    const parent = typeof body.jobId === 'string' ? mock.jobs.get(body.jobId) : undefined;
    if (!parent) return HttpResponse.json(flatError(404, 'Job not found'), { status: 404 });
    if (taskOf(parent).status !== 'completed' || parent.taskType === 'upscale') {
      return invalid('The original job has no finished grid');
    }
    if (indexed && !(typeof body.imageNo === 'number' && GRID_IMAGES.includes(body.imageNo))) {
      return invalid('imageNo must be 0, 1, 2 or 3');
    }
    if (indexed && !(body.type === 0 || body.type === 1)) return invalid('type must be 0 or 1');
    return undefined;
  };

  server.use(
    http.post(`${LEGNEXT}/api/v1/diffusion`, async ({ request }) => {
      const body = await read('diffusion', request);
      if (body instanceof Response) return body;
      const text = body.text;
      if (typeof text !== 'string' || text.length < 1 || text.length > 8192) {
        return invalid('text must be 1 to 8192 characters');
      }
      if (text.toLowerCase().includes(LEGNEXT_SENSITIVE_WORD)) {
        return refusedTask(403, 'Sensitive content detected, please modify your prompt');
      }
      return accept('diffusion', body);
    }),
    http.post(`${LEGNEXT}/api/v1/upscale`, async ({ request }) => {
      const body = await read('upscale', request);
      if (body instanceof Response) return body;
      return gridOf(body, true) ?? accept('upscale', body);
    }),
    http.post(`${LEGNEXT}/api/v1/variation`, async ({ request }) => {
      const body = await read('variation', request);
      if (body instanceof Response) return body;
      const remix = body.remixPrompt;
      if (typeof remix === 'string' && remix.toLowerCase().includes(LEGNEXT_SENSITIVE_WORD)) {
        return refusedTask(403, 'Sensitive content detected, please modify your prompt');
      }
      return gridOf(body, true) ?? accept('variation', body);
    }),
    http.post(`${LEGNEXT}/api/v1/reroll`, async ({ request }) => {
      const body = await read('reroll', request);
      if (body instanceof Response) return body;
      return gridOf(body, false) ?? accept('reroll', body);
    }),
    http.get(`${LEGNEXT}/api/v1/job/:jobId`, ({ request, params }) => {
      const refusal = gate(request);
      if (refusal) return refusal;
      const job = mock.jobs.get(String(params.jobId));
      if (!job) return HttpResponse.json(flatError(404, 'Job not found'), { status: 404 });
      const answer = taskOf(job);
      job.checks += 1;
      return HttpResponse.json(answer);
    }),
  );
  return mock;
}
