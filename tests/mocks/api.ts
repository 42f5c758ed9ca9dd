// msw handlers for our own API as the browser sees it. Happy path here; progressions and
// failures are added inside tests with server.use(...) and { once: true }.
import { HttpResponse, http } from 'msw';
import type { ErrorBody } from '../../shared/schemas/error';
import type { JobResponse } from '../../shared/schemas/job';

export const API = 'http://localhost:3000/api';

export const apiHandlers = [
  http.post(`${API}/imagine`, () => HttpResponse.json({ job_id: 'job_1', status: 'pending' }, { status: 202 })),
  http.get(`${API}/jobs/:jobId`, ({ params }) =>
    HttpResponse.json({ job_id: String(params.jobId), status: 'processing', progress: 10 } satisfies JobResponse),
  ),
];

export function jobAnswer(jobId: string, rest: Omit<JobResponse, 'job_id'>) {
  return HttpResponse.json({ job_id: jobId, ...rest } satisfies JobResponse);
}

export function errorAnswer(status: number, error: ErrorBody['error']) {
  const headers: Record<string, string> =
    error.retry_after_s !== undefined ? { 'Retry-After': String(error.retry_after_s) } : {};
  return HttpResponse.json({ error } satisfies ErrorBody, { status, headers });
}
