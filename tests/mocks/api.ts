// msw handlers for our own API as the browser sees it. Happy path here; progressions and
// failures are added inside tests with server.use(...) and { once: true }.

import type { AccountList } from '@shared/schemas/account';
import type { ErrorBody } from '@shared/schemas/error';
import type { Job, JobList, Lineage } from '@shared/schemas/job';
import type { Upload } from '@shared/schemas/upload';
import { HttpResponse, http } from 'msw';

export const API = 'http://localhost:3000/api';

/** A job as the server shows it; its params hold its aspect ratio unless a test gives them. */
export function makeJob(jobId: string, rest: Partial<Omit<Job, 'job_id'>> = {}): Job {
  const aspectRatio = rest.aspect_ratio ?? '16:9';
  return {
    job_id: jobId,
    status: 'pending',
    kind: 'imagine',
    output: 'image',
    favourite: false,
    prompt: 'a red fox in the snow',
    params: aspectRatio === '1:1' ? {} : { aspect_ratio: aspectRatio },
    cost: 1,
    aspect_ratio: aspectRatio,
    quality: 'standard',
    created_at: new Date(Date.now()).toISOString(),
    ...rest,
  };
}

let uploads = 0;

/** An upload as POST /api/uploads answers it, with a new id each time. */
export function makeUpload(rest: Partial<Upload> = {}): Upload {
  const uploadId = rest.upload_id ?? `up_test${String(++uploads).padStart(12, '0')}`;
  return {
    upload_id: uploadId,
    url: `/api/uploads/${uploadId}/image`,
    width: 640,
    height: 480,
    content_type: 'image/png',
    bytes: 2048,
    created_at: new Date(Date.now()).toISOString(),
    ...rest,
  };
}

export const apiHandlers = [
  http.get(`${API}/session`, () => HttpResponse.json({ required: false, signed_in: true })),
  http.get(`${API}/budget`, () => HttpResponse.json({ limit: 60, window_s: 60, used: 0, queue_length: 0 })),
  http.get(`${API}/accounts`, () =>
    HttpResponse.json({
      accounts: [
        {
          name: 'simulator',
          kind: 'simulator',
          state: 'ready',
          limit: 60,
          window_s: 60,
          used: 0,
          running: 0,
          max_running: 10_000,
          queued: 0,
        },
      ],
    } satisfies AccountList),
  ),
  http.get(`${API}/jobs`, () => HttpResponse.json({ jobs: [], next_cursor: null } satisfies JobList)),
  http.post(`${API}/imagine`, () => HttpResponse.json(makeJob('job_1'), { status: 202 })),
  http.post(`${API}/uploads`, () => HttpResponse.json(makeUpload(), { status: 201 })),
  http.get(`${API}/jobs/:jobId`, ({ params }) =>
    HttpResponse.json(makeJob(String(params.jobId), { status: 'processing', progress: 10 })),
  ),
  http.put(`${API}/jobs/:jobId/favourite`, ({ params }) =>
    HttpResponse.json(makeJob(String(params.jobId), { status: 'complete', favourite: true })),
  ),
  http.delete(`${API}/jobs/:jobId/favourite`, ({ params }) =>
    HttpResponse.json(makeJob(String(params.jobId), { status: 'complete', favourite: false })),
  ),
  http.get(`${API}/jobs/:jobId/lineage`, () => HttpResponse.json({ ancestors: [], children: [] } satisfies Lineage)),
];

export function jobAnswer(jobId: string, rest: Partial<Omit<Job, 'job_id'>>) {
  return HttpResponse.json(makeJob(jobId, rest));
}

export function errorAnswer(status: number, error: ErrorBody['error']) {
  const headers: Record<string, string> =
    error.retry_after_s !== undefined ? { 'Retry-After': String(error.retry_after_s) } : {};
  return HttpResponse.json({ error } satisfies ErrorBody, { status, headers });
}
