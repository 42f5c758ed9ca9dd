// Push instead of poll: the routes check who is speaking, the intake (jobs/webhook-intake.ts)
// does the rest. POST /hooks/v7 takes Standard Webhooks signed by the v7 upstream (verified
// over the raw body). POST /hooks/account/:token (and /hooks/mj-proxy/:token, the single
// relay's older path) take unsigned notices (a relay's notifyHook, a paid API's callback):
// each account has its own unguessable token in the URL, which keeps strangers out.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { AppError } from '../errors';
import type { WebhookIntake } from '../jobs/webhook-intake';
import { verify } from '../webhooks/standard-webhooks';

export interface WebhookOptions {
  /** The v7 upstream's Standard Webhooks secret (whsec_…) and its account; without it /hooks/v7 is off. */
  v7?: { intake: WebhookIntake; secret: string } | undefined;
  /** The secret path token of each account whose upstream sends unsigned notices. */
  tokens: readonly { token: string; intake: WebhookIntake }[];
}

const raw = express.raw({ type: () => true, limit: '64kb' });
const bodyOf = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.alloc(0));

// Compared as digests: always 32 bytes each, whatever the given token's length or characters
// (a non-ASCII one has more bytes than characters), so no answer or timing tells its length.
const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();
const sameToken = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

export function webhookRoutes({ v7, tokens }: WebhookOptions): Router {
  const router = express.Router();

  router.post('/v7', raw, async (req, res) => {
    if (!v7?.intake.enabled) throw new AppError(404, 'not_found', 'Webhooks are not configured');
    const { intake } = v7;
    const body = bodyOf(req.body);
    const verdict = verify(
      v7.secret,
      { id: req.get('webhook-id'), timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature') },
      body,
    );
    if (!verdict.ok) throw new AppError(401, 'unauthorized', `Webhook refused: ${verdict.reason}`);
    const outcome = await intake.receive(body, verdict.id);
    if (outcome === 'unknown_job') res.status(202).json({ ignored: 'unknown job' });
    else res.status(204).end();
  });

  const unsigned: express.RequestHandler = async (req, res) => {
    const given = String(req.params.token);
    // Every token is compared, so the time taken does not tell which account came close.
    let intake: WebhookIntake | undefined;
    for (const entry of tokens) if (sameToken(given, entry.token)) intake = entry.intake;
    // A wrong token looks exactly like no hook at all.
    if (!intake?.enabled) throw new AppError(404, 'not_found', 'No such hook');
    await intake.receive(bodyOf(req.body));
    res.status(204).end();
  };
  router.post('/account/:token', raw, unsigned);
  router.post('/mj-proxy/:token', raw, unsigned);

  return router;
}
