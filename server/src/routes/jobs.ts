// The owner's jobs: list (cursor pages, newest first, searched and filtered), read, preview,
// lineage, favourite, cancel, delete, the budget line and the accounts. Ids are checked against the shared strict pattern first; another owner's job
// is a 404 like a missing one.
import type { AccountList } from '@shared/schemas/account';
import { type JobList, jobIdSchema, jobListQuerySchema, type Lineage } from '@shared/schemas/job';
import type { Router } from 'express';
import { AppError } from '../errors';
import { sendFreshJson } from '../http/fresh-json';
import type { JobPresenter } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';
import type { Scheduling } from '../jobs/scheduling';

export interface JobRouteDeps {
  jobs: JobService;
  scheduler: Scheduling;
  present: JobPresenter;
}

export function jobRoutes(router: Router, { jobs, scheduler, present }: JobRouteDeps): void {
  router.get('/jobs', (req, res) => {
    const query = parseOrThrow(jobListQuerySchema, req.query, 'query');
    const page = jobs.list(ownerOf(req), query);
    const body: JobList = { jobs: page.jobs.map(present), next_cursor: page.nextCursor };
    sendFreshJson(res, body);
  });

  router.get('/jobs/:jobId', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    sendFreshJson(res, present(jobs.get(ownerOf(req), id)));
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

  // The jobs a job came from and those made from it, whichever page they are on.
  router.get('/jobs/:jobId/lineage', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    const family = jobs.lineage(ownerOf(req), id);
    const body: Lineage = { ancestors: family.ancestors.map(present), children: family.children.map(present) };
    sendFreshJson(res, body);
  });

  router.put('/jobs/:jobId/favourite', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.json(present(jobs.setFavourite(ownerOf(req), id, true)));
  });

  router.delete('/jobs/:jobId/favourite', (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.json(present(jobs.setFavourite(ownerOf(req), id, false)));
  });

  router.post('/jobs/:jobId/cancel', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    res.json(present(await jobs.cancel(ownerOf(req), id)));
  });

  router.delete('/jobs/:jobId', async (req, res) => {
    const id = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    await jobs.remove(ownerOf(req), id);
    res.status(204).end();
  });

  router.get('/budget', (_req, res) => {
    sendFreshJson(res, scheduler.budget());
  });

  // The admin view: every account's state and load (never an address or a secret).
  router.get('/accounts', (_req, res) => {
    const body: AccountList = { accounts: scheduler.accounts() };
    sendFreshJson(res, body);
  });
}
