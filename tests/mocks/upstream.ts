// msw handlers for the v7 REST upstream: the happy path lives here; tests add failures and
// job progressions with server.use(...).
import { HttpResponse, http } from 'msw';
import { PNG } from 'pngjs';

export const UPSTREAM_BASE = 'https://mj.test/v1';
export const UPSTREAM_KEY = 'sk-test-5f1d0c3a9b7e4d2c8a6f';
export const CDN_BASE = 'https://cdn.mj.test';

export function tinyPng(width = 4, height = 3): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(200);
  return PNG.sync.write(png);
}

export const upstreamHandlers = [
  http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: 'job_123', status: 'pending' })),
  http.get(`${UPSTREAM_BASE}/jobs/:jobId`, ({ params }) =>
    HttpResponse.json({
      job_id: params.jobId,
      status: 'complete',
      progress: 100,
      image_url: `${CDN_BASE}/images/${String(params.jobId)}.png`,
    }),
  ),
  http.get(`${CDN_BASE}/images/:name`, () =>
    HttpResponse.arrayBuffer(new Uint8Array(tinyPng()).buffer, { headers: { 'content-type': 'image/png' } }),
  ),
];
