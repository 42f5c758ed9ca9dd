// An msw-mocked Apiframe v2 for the adapter to speak to: X-API-Key checked, jobs by UUID that go
// QUEUED, PROCESSING, COMPLETED one status check at a time, Midjourney's follow-up actions checked
// against what the parent is, replayed Idempotency-Keys, moderation as a FAILED job; refusals on demand.
import { randomUUID } from 'node:crypto';
import { HttpResponse, http, type JsonBodyType } from 'msw';
import { server } from './node';

export const APIFRAME = 'https://apiframe.test';
export const APIFRAME_KEY = 'afk_test_9c1d2e3f4a5b6c7d8e9f';
export const APIFRAME_CDN = 'https://cdn.apiframe.test';

/** Words the fake's provider moderates. */
export const APIFRAME_BANNED = 'forbidden';

type Kind = 'grid' | 'upsample';
export interface FakeApiframeJob {
  id: string;
  kind: Kind;
  /** The answers the job's status checks get, one per check; the last one stays. */
  steps: Record<string, unknown>[];
}

const gridResult = (id: string) => ({
  images: [1, 2, 3, 4].map((n) => `${APIFRAME_CDN}/images/${id}-${n}.png`),
  gridUrl: `${APIFRAME_CDN}/images/${id}-grid.png`,
});

function stepsFor(id: string, kind: Kind, moderated: boolean): Record<string, unknown>[] {
  const job = (status: string, progress: number, extra: Record<string, unknown> = {}) => ({
    id,
    status,
    model: 'midjourney',
    progress,
    result: null,
    error: null,
    creditCost: kind === 'upsample' ? 4 : 16,
    webhookStatus: null,
    createdAt: '2026-03-15T10:00:00.000Z',
    completedAt: null,
    ...extra,
  });
  if (moderated) {
    return [
      job('QUEUED', 0),
      job('FAILED', 0, {
        error: 'Provider returned an error: content policy violation',
        creditCost: 0,
        completedAt: '2026-03-15T10:00:05.000Z',
      }),
    ];
  }
  return [
    job('QUEUED', 0),
    job('PROCESSING', 65),
    job('COMPLETED', 100, {
      result: kind === 'grid' ? gridResult(id) : { images: [`${APIFRAME_CDN}/images/${id}-1.png`] },
      completedAt: '2026-03-15T10:00:32.000Z',
    }),
  ];
}

const invalid = (details: Record<string, string[]>) =>
  HttpResponse.json({ error: 'Validation failed', details }, { status: 400 });

/** What each action needs of its parent, and what it makes. */
const ACTIONS: Record<string, { on: Kind; makes: Kind; field?: string }> = {
  upsample: { on: 'grid', makes: 'upsample', field: 'index' },
  variation: { on: 'grid', makes: 'grid', field: 'index' },
  inpaint: { on: 'upsample', makes: 'grid', field: 'mask' },
  outpaint: { on: 'upsample', makes: 'grid', field: 'zoomRatio' },
  pan: { on: 'upsample', makes: 'grid', field: 'direction' },
};

export function mockApiframeUpstream() {
  const sent: { path: string; body: Record<string, unknown>; idempotencyKey: string | null }[] = [];
  const jobs = new Map<string, FakeApiframeJob>();
  const replays = new Map<string, string>();

  const authorized = (request: Request) => request.headers.get('x-api-key') === APIFRAME_KEY;
  const unauthorized = () => HttpResponse.json({ error: 'Invalid API key' }, { status: 401 });

  /** A new job, or the one an Idempotency-Key already made. */
  const accept = (key: string | null, kind: Kind, moderated: boolean) => {
    const known = key ? jobs.get(replays.get(key) ?? '') : undefined;
    if (known) return HttpResponse.json({ jobId: known.id, status: String(known.steps[0]?.status) }, { status: 202 });
    const id = randomUUID();
    jobs.set(id, { id, kind, steps: stepsFor(id, kind, moderated) });
    if (key) replays.set(key, id);
    return HttpResponse.json({ jobId: id, status: 'QUEUED' }, { status: 202 });
  };

  server.use(
    http.post(`${APIFRAME}/v2/images/generate`, async ({ request }) => {
      if (!authorized(request)) return unauthorized();
      const body = (await request.json()) as Record<string, unknown>;
      const idempotencyKey = request.headers.get('idempotency-key');
      sent.push({ path: 'generate', body, idempotencyKey });
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      if (body.model !== 'midjourney') return invalid({ model: ['Invalid discriminator value'] });
      if (prompt.length < 1 || prompt.length > 2000) return invalid({ prompt: ['String must be 1-2000 characters'] });
      return accept(idempotencyKey, 'grid', prompt.includes(APIFRAME_BANNED));
    }),
    http.post(`${APIFRAME}/v2/images/midjourney/action`, async ({ request }) => {
      if (!authorized(request)) return unauthorized();
      const body = (await request.json()) as Record<string, unknown>;
      const idempotencyKey = request.headers.get('idempotency-key');
      sent.push({ path: 'action', body, idempotencyKey });
      const action = ACTIONS[String(body.action)];
      if (!action) return invalid({ action: ['Invalid discriminator value'] });
      if (action.field && body[action.field] === undefined) return invalid({ [action.field]: ['Required'] });
      const parent = jobs.get(String(body.parentJobId));
      if (!parent) return HttpResponse.json({ error: 'Parent job not found' }, { status: 404 });
      if (parent.steps.at(-1)?.status !== 'COMPLETED' || parent.steps.length > 1) {
        return HttpResponse.json({ error: 'Parent job is not COMPLETED' }, { status: 400 });
      }
      if (parent.kind !== action.on) {
        return HttpResponse.json({ error: `${String(body.action)} is not available for this job` }, { status: 409 });
      }
      return accept(idempotencyKey, action.makes, false);
    }),
    http.get(`${APIFRAME}/v2/jobs/:id`, ({ request, params }) => {
      if (!authorized(request)) return unauthorized();
      const job = jobs.get(String(params.id));
      if (!job) return HttpResponse.json({ error: 'Job not found' }, { status: 404 });
      const step = job.steps.length > 1 ? job.steps.shift() : job.steps[0];
      return HttpResponse.json(step as JsonBodyType);
    }),
  );

  /** Makes the fake's next answer (to any route) this refusal. */
  const refuseNext = (status: number, body: JsonBodyType, headers: Record<string, string> = {}) =>
    server.use(http.all(`${APIFRAME}/*`, () => HttpResponse.json(body, { status, headers }), { once: true }));

  /** Runs a job to its end, as status checks would. */
  const finish = (id: string) => {
    const job = jobs.get(id);
    if (job) job.steps = job.steps.slice(-1);
  };

  return { sent, jobs, refuseNext, finish };
}
