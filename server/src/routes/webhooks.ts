// Push instead of poll. POST /hooks/v7 takes Standard Webhooks signed by the v7 upstream
// (verified over the raw body; each delivery id counts once) and applies the job state they
// carry. POST /hooks/mj-proxy/:token takes midjourney-proxy's unsigned notifyHook: the
// unguessable token in the URL keeps strangers out, and the body is only a hint to fetch the
// task again (through the budget), never trusted as the result.
import { timingSafeEqual } from 'node:crypto';
import { isTerminalStatus } from '@shared/schemas/job';
import express, { type Router } from 'express';
import { z } from 'zod';
import { AppError, UpstreamError } from '../errors';
import type { JobService } from '../jobs/job-service';
import type { UpstreamScheduler } from '../jobs/upstream-scheduler';
import type { JobStore } from '../store/job-store';
import { relayStatus } from '../upstream/mj-proxy-adapter';
import { toUpstreamJob, v7WebhookSchema } from '../upstream/v7-adapter';
import { verify } from '../webhooks/standard-webhooks';

export interface WebhookOptions {
  jobs: JobService;
  store: JobStore;
  scheduler: UpstreamScheduler;
  /** The v7 upstream's Standard Webhooks secret (whsec_…); without it /hooks/v7 is off. */
  v7Secret?: string | undefined;
  /** The secret path token of the midjourney-proxy notifyHook; without it that hook is off. */
  relayToken?: string | undefined;
}

const relayHintSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  status: z.string().optional().catch(undefined),
});
const raw = express.raw({ type: () => true, limit: '64kb' });

const sameToken = (given: string, expected: string) =>
  given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

export function webhookRoutes(options: WebhookOptions): Router {
  const router = express.Router();

  router.post('/v7', raw, async (req, res) => {
    if (!options.v7Secret) throw new AppError(404, 'not_found', 'Webhooks are not configured');
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verify(
      options.v7Secret,
      { id: req.get('webhook-id'), timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature') },
      body,
    );
    if (!verdict.ok) throw new AppError(401, 'unauthorized', `Webhook refused: ${verdict.reason}`);
    // A repeat of a delivery already applied is acknowledged and changes nothing.
    if (!options.store.rememberDelivery(verdict.id, Date.now())) {
      res.status(204).end();
      return;
    }
    let payload: z.infer<typeof v7WebhookSchema>;
    try {
      payload = v7WebhookSchema.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new AppError(400, 'invalid_request', 'The webhook body is not a job');
    }
    const job = options.store.getByUpstreamId(payload.job_id);
    if (!job) {
      res.status(202).json({ ignored: 'unknown job' });
      return;
    }
    try {
      await options.jobs.applyUpstream(job.id, toUpstreamJob(payload.job_id, payload));
    } catch (error) {
      if (error instanceof UpstreamError) throw new AppError(400, 'invalid_request', error.message);
      throw error;
    }
    res.status(204).end();
  });

  router.post('/mj-proxy/:token', raw, (req, res) => {
    const token = String(req.params.token);
    // A wrong token looks exactly like no hook at all.
    if (!options.relayToken || !sameToken(token, options.relayToken)) {
      throw new AppError(404, 'not_found', 'No such hook');
    }
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let hint: z.infer<typeof relayHintSchema> | undefined;
    try {
      hint = relayHintSchema.parse(JSON.parse(body.toString('utf8')));
    } catch {
      hint = undefined;
    }
    const job = hint ? options.store.getByUpstreamId(hint.id) : undefined;
    // An (unverifiable) end is looked at as soon as the budget allows; mere progress only
    // with budget to spare, so hints cannot crowd out submissions.
    const status = hint?.status === undefined ? undefined : relayStatus(hint.status);
    const final = hint?.status === undefined || (status !== undefined && isTerminalStatus(status));
    if (job) options.scheduler.nudge(job.id, final ? 'finish' : 'progress');
    res.status(204).end();
  });

  return router;
}
