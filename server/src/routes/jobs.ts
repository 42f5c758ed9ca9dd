// The owner's jobs: list (cursor pages, newest first), read, cancel, delete. Ids are checked
// against the shared strict pattern first; another owner's job is a 404 like a missing one.

import { type Budget, type Job, type JobList, jobIdSchema, jobListQuerySchema } from '@shared/schemas/job';
import express, { type Router } from 'express';
import type { KeyBudget } from '../budget/key-budget';
import { AppError } from '../errors';
import { toJobView } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';
import type { UpstreamScheduler } from '../jobs/upstream-scheduler';
import { isActive, type JobRecord } from '../store/job-store';
import { InvalidCursorError } from '../store/sqlite-job-store';

const MIN_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
/** With webhooks, news can come at any moment: browsers ask at least this often (a store read). */
const PUSHED_POLL_MS = 2_000;

/** The job as its owner sees it, with the queue position and a hint for the next poll. */
export function viewFor(job: JobRecord, jobs: JobService, scheduler: UpstreamScheduler): Job {
  const view = toJobView(job, jobs.actionsFor(job));
  if (!isActive(job.status)) return view;
  const position = scheduler.queuePosition(job.id);
  if (position !== undefined) view.queue_position = position;
  const next = scheduler.nextUpdateAt(job.id);
  const wait = next === undefined ? MIN_POLL_MS * 2 : next - Date.now() + 300;
  const longest = scheduler.pushed && position === undefined ? PUSHED_POLL_MS : MAX_POLL_MS;
  view.poll_after_ms = Math.round(Math.min(longest, Math.max(MIN_POLL_MS, wait)));
  return view;
}

export function jobRoutes(jobs: JobService, scheduler: UpstreamScheduler, budget: KeyBudget): Router {
  const router = express.Router();

  router.get('/jobs', (req, res) => {
    const query = parseOrThrow(jobListQuerySchema, req.query, 'query');
    let page: ReturnType<JobService['list']>;
    try {
      page = jobs.list(ownerOf(req), query);
    } catch (error) {
      if (!(error instanceof InvalidCursorError)) throw error;
      throw new AppError(400, 'invalid_request', error.message, {
        fields: [{ path: 'cursor', message: error.message }],
      });
    }
    const body: JobList = { jobs: page.jobs.map((job) => viewFor(job, jobs, scheduler)), next_cursor: page.nextCursor };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/jobs/:jobId', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.set('Cache-Control', 'no-store').json(viewFor(jobs.get(ownerOf(req), id), jobs, scheduler));
  });

  // The upstream's low-resolution look at a running job, fetched through the server so the
  // browser never sees the upstream's links. 404 once the job has none (finished, or none yet).
  router.get('/jobs/:jobId/preview', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    const preview = await jobs.preview(ownerOf(req), id);
    if (!preview) throw new AppError(404, 'not_found', 'This job has no preview now');
    res
      .set('Cache-Control', 'private, max-age=300')
      .type(preview.contentType)
      .send(Buffer.from(preview.body.buffer, preview.body.byteOffset, preview.body.byteLength));
  });

  router.post('/jobs/:jobId/cancel', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.json(viewFor(await jobs.cancel(ownerOf(req), id), jobs, scheduler));
  });

  router.delete('/jobs/:jobId', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    await jobs.remove(ownerOf(req), id);
    res.status(204).end();
  });

  router.get('/budget', (_req, res) => {
    const paused = budget.pausedUntil;
    const body: Budget = {
      limit: budget.limit,
      window_s: budget.windowMs / 1000,
      used: budget.usedInWindow(),
      queue_length: scheduler.queueLength,
    };
    if (paused !== undefined) body.paused_for_s = Math.ceil((paused - Date.now()) / 1000);
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
