import { focusManager, QueryObserver } from '@tanstack/react-query';
import { http } from 'msw';
import { expect, test } from 'vitest';
import { ERROR_BACKOFF_MS, jobQueryOptions, POLL_INTERVAL_MS } from '@/features/jobs/api/get-job';
import { jobKeys } from '@/features/jobs/api/job-keys';
import { API, errorAnswer, jobAnswer, makeJob } from '../mocks/api';
import { advance, countJobRequests, freshQueryClient, installFakeClock } from './helpers';
import { server } from './setup';

function watch(jobId: string, client = freshQueryClient()) {
  const observer = new QueryObserver(client, jobQueryOptions(jobId));
  const unsubscribe = observer.subscribe(() => undefined);
  return { observer, unsubscribe };
}

function answerInOrder(jobId: string, answers: (() => Response)[]) {
  server.use(...answers.map((answer) => http.get(`${API}/jobs/${jobId}`, answer, { once: true })));
}

test('polling stops once the job is complete', async () => {
  installFakeClock();
  answerInOrder('j1', [
    () => jobAnswer('j1', { status: 'pending' }),
    () => jobAnswer('j1', { status: 'processing', progress: 40 }),
    () => jobAnswer('j1', { status: 'complete', progress: 100, image_url: '/api/jobs/j1/image' }),
  ]);
  const requests = countJobRequests('j1');

  const { observer } = watch('j1');
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  await advance(POLL_INTERVAL_MS);
  const whenComplete = requests.count;
  await advance(POLL_INTERVAL_MS * 10);

  expect(observer.getCurrentResult().data?.status).toBe('complete');
  expect(whenComplete).toBe(3);
  expect(requests.count).toBe(3);
});

test('what polling learns about a job replaces it in the cached history, and nothing else there', async () => {
  installFakeClock();
  const client = freshQueryClient();
  const other = makeJob('h2', { status: 'failed', error: 'x' });
  client.setQueryData(jobKeys.lists(), {
    pages: [{ jobs: [makeJob('h1', { status: 'processing', progress: 5 }), other], next_cursor: null }],
    pageParams: [undefined],
  });
  answerInOrder('h1', [() => jobAnswer('h1', { status: 'complete', image_url: '/api/images/h1.png' })]);

  watch('h1', client);
  await advance(0);

  expect(client.getQueryData<{ pages: { jobs: unknown[] }[] }>(jobKeys.lists())?.pages[0]?.jobs).toEqual([
    expect.objectContaining({ job_id: 'h1', status: 'complete', image_url: '/api/images/h1.png' }),
    other,
  ]);
});

test('polling stops once the job has failed', async () => {
  installFakeClock();
  answerInOrder('j2', [
    () => jobAnswer('j2', { status: 'processing', progress: 10 }),
    () => jobAnswer('j2', { status: 'failed', error: 'GPU fault' }),
  ]);
  const requests = countJobRequests('j2');

  const { observer } = watch('j2');
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  await advance(POLL_INTERVAL_MS * 10);

  expect(observer.getCurrentResult().data).toMatchObject({ status: 'failed', error: 'GPU fault' });
  expect(requests.count).toBe(2);
});

test('polling stops when nobody watches the job any more', async () => {
  installFakeClock();
  const requests = countJobRequests('j3');

  const { unsubscribe } = watch('j3');
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  unsubscribe();
  await advance(POLL_INTERVAL_MS * 10);

  expect(requests.count).toBe(2);
});

test('after a 429 the next poll waits the Retry-After the server gave', async () => {
  installFakeClock();
  answerInOrder('j4', [
    () => jobAnswer('j4', { status: 'processing', progress: 10 }),
    () => errorAnswer(429, { code: 'rate_limited', message: 'slow down', retry_after_s: 12 }),
    () => jobAnswer('j4', { status: 'complete', progress: 100, image_url: '/api/jobs/j4/image' }),
  ]);
  const requests = countJobRequests('j4');

  const { observer } = watch('j4');
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  const rateLimited = observer.getCurrentResult().error;
  await advance(11_900);
  const beforeRetryAfter = requests.count;
  await advance(200);

  expect(rateLimited).toMatchObject({ code: 'rate_limited', retryAfterS: 12 });
  expect(beforeRetryAfter).toBe(2);
  expect(requests.count).toBe(3);
  expect(observer.getCurrentResult().data?.status).toBe('complete');
});

test('a passing upstream outage is ridden out with a slower poll, keeping the last known state', async () => {
  installFakeClock();
  answerInOrder('j5', [
    () => jobAnswer('j5', { status: 'processing', progress: 30 }),
    () => errorAnswer(502, { code: 'upstream_unavailable', message: 'The upstream could not be reached' }),
    () => jobAnswer('j5', { status: 'processing', progress: 60 }),
  ]);
  const requests = countJobRequests('j5');

  const { observer } = watch('j5');
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  const during = observer.getCurrentResult();
  await advance(ERROR_BACKOFF_MS - 100);
  const beforeBackoff = requests.count;
  await advance(100);

  expect(during.error).toMatchObject({ code: 'upstream_unavailable' });
  expect(during.data).toMatchObject({ status: 'processing', progress: 30 });
  expect(beforeBackoff).toBe(2);
  expect(requests.count).toBe(3);
  expect(observer.getCurrentResult().data?.progress).toBe(60);
});

test.each([
  [404, { code: 'not_found' as const, message: 'No such job' }],
  [400, { code: 'invalid_request' as const, message: 'Invalid job id' }],
  [502, { code: 'upstream_auth' as const, message: "The upstream rejected this server's key" }],
])('polling stops after a %i that asking again cannot fix', async (status, error) => {
  installFakeClock();
  answerInOrder('j6', [() => errorAnswer(status, error)]);
  const requests = countJobRequests('j6');

  const { observer } = watch('j6');
  await advance(0);
  await advance(POLL_INTERVAL_MS * 20);

  expect(observer.getCurrentResult().error).toMatchObject({ code: error.code });
  expect(requests.count).toBe(1);
});

test('the next poll waits for the server’s poll_after_ms hint instead of the default interval', async () => {
  installFakeClock();
  answerInOrder('j7', [
    () => jobAnswer('j7', { status: 'processing', progress: 40, poll_after_ms: 9_000 }),
    () => jobAnswer('j7', { status: 'complete', progress: 100, image_url: '/api/images/j7.png' }),
  ]);
  const requests = countJobRequests('j7');

  watch('j7');
  await advance(0);
  await advance(8_900);
  const beforeHint = requests.count;
  await advance(200);

  expect(beforeHint).toBe(1);
  expect(requests.count).toBe(2);
});

test('a hint outside 1-30 s is clamped, so a bad server cannot make the page spin or stall', async () => {
  installFakeClock();
  server.use(http.get(`${API}/jobs/j8`, () => jobAnswer('j8', { status: 'pending', poll_after_ms: 0 })));
  const requests = countJobRequests('j8');

  watch('j8');
  await advance(0);
  await advance(5_000);

  expect(requests.count).toBe(6);
});

test('polling pauses while the tab is hidden and resumes when it is shown again', async () => {
  installFakeClock();
  const requests = countJobRequests('j9');

  watch('j9');
  await advance(0);
  focusManager.setFocused(false);
  await advance(POLL_INTERVAL_MS * 10);
  const whileHidden = requests.count;
  focusManager.setFocused(true);
  await advance(POLL_INTERVAL_MS);
  focusManager.setFocused(undefined);

  expect(whileHidden).toBe(1);
  expect(requests.count).toBeGreaterThan(whileHidden);
});
