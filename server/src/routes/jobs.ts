// The owner's jobs: list (cursor pages, newest first), read, cancel, delete. Ids are checked
// against the shared strict pattern first; another owner's job is a 404 like a missing one.
import express, { type Router } from 'express';
import { type JobList, jobIdSchema, jobListQuerySchema } from '../../../shared/schemas/job';
import { AppError } from '../errors';
import { toJobView } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';
import { InvalidCursorError } from '../store/sqlite-job-store';

export function jobRoutes(jobs: JobService): Router {
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
    const body: JobList = { jobs: page.jobs.map(toJobView), next_cursor: page.nextCursor };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/jobs/:jobId', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.set('Cache-Control', 'no-store').json(toJobView(jobs.get(ownerOf(req), id)));
  });

  router.post('/jobs/:jobId/cancel', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.json(toJobView(await jobs.cancel(ownerOf(req), id)));
  });

  router.delete('/jobs/:jobId', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    await jobs.remove(ownerOf(req), id);
    res.status(204).end();
  });

  return router;
}
