// createApp(deps) builds the whole HTTP application from its (already composed) services and
// never listens: compose.ts calls it, tests drive the result with supertest.
import cookieParser from 'cookie-parser';
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { KeyBudget } from './budget/key-budget';
import { accessRoutes, sameOriginGuard } from './http/access';
import { clientAssets } from './http/client-assets';
import { errorHandler, notFound } from './http/error-handler';
import { jobPresenter } from './http/job-view';
import { assignOwner } from './http/owner';
import { securityHeaders } from './http/security-headers';
import type { ClientLimits } from './jobs/client-limits';
import type { JobService } from './jobs/job-service';
import type { UpstreamScheduler } from './jobs/upstream-scheduler';
import { imageRoutes } from './routes/images';
import { imagineRoutes } from './routes/imagine';
import { jobRoutes } from './routes/jobs';
import { type WebhookOptions, webhookRoutes } from './routes/webhooks';

export const JSON_BODY_LIMIT = '16kb';

export interface AppDeps {
  jobs: JobService;
  scheduler: UpstreamScheduler;
  budget: KeyBudget;
  limits: ClientLimits;
  logger: Logger;
  now: () => number;
  /** Signs the owner cookie. */
  cookieSecret: string;
  /** The built client (dist/client); when set, the SPA is served from the same origin. */
  clientDist?: string;
  security?: SecurityOptions;
  webhooks: WebhookOptions;
}

export interface SecurityOptions {
  /** When set, every /api route and image requires this token (or a session from it). */
  accessToken?: string | undefined;
  /** Origins allowed to call the API from a browser besides our own. */
  allowedOrigins?: string[];
  /** Express's trust proxy setting, for deployments behind a reverse proxy. */
  trustProxy?: string | undefined;
  /** Sign-in attempts allowed per address in 15 minutes. */
  signInAttempts?: number;
}

/** `/hooks/mj-proxy/<token>…` with the token replaced, for logs. */
export const redactHookToken = (url: string): string => url.replace(/^(\/hooks\/mj-proxy\/)[^/?#]*/, '$1[redacted]');

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const security = deps.security ?? {};
  const allowedOrigins = security.allowedOrigins ?? [];
  if (security.trustProxy) app.set('trust proxy', trustProxyValue(security.trustProxy));
  app.use(securityHeaders(allowedOrigins));
  app.use(
    pinoHttp({
      logger: deps.logger,
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      // The relay hook's path carries its secret token: it stays out of the logs.
      serializers: {
        req: (req: { url?: string; params?: Record<string, unknown> }) => {
          if (typeof req.url === 'string') req.url = redactHookToken(req.url);
          if (req.params && 'token' in req.params) req.params.token = '[redacted]';
          return req;
        },
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok', upstream: deps.jobs.upstreamName });
  });

  app.use('/hooks', webhookRoutes(deps.webhooks));

  const api = express.Router();
  const access = accessRoutes({
    token: security.accessToken,
    allowedOrigins,
    ...(security.signInAttempts !== undefined ? { signInAttempts: security.signInAttempts } : {}),
  });
  api.use(cookieParser(deps.cookieSecret), access.guard, sameOriginGuard(allowedOrigins), assignOwner);
  api.use(access.session);
  const present = jobPresenter(deps.jobs, deps.scheduler, deps.now);
  const { jobs, scheduler } = deps;
  api.use(imagineRoutes({ jobs, scheduler, limits: deps.limits, present, jsonLimit: JSON_BODY_LIMIT }));
  api.use(jobRoutes({ jobs, scheduler, budget: deps.budget, present }));
  api.use(imageRoutes(jobs));
  api.use(notFound);
  app.use('/api', api);

  if (deps.clientDist) app.use(clientAssets(deps.clientDist));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}

/** "true", a hop count, or a list of addresses/subnets, as Express understands them. */
function trustProxyValue(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
