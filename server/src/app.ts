// createApp(deps) builds the whole HTTP application from its dependencies and never listens:
// tests drive it with supertest, index.ts puts it on a port.
import cookieParser from 'cookie-parser';
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { KeyBudget } from './budget/key-budget';
import { clientAssets } from './http/client-assets';
import { errorHandler, notFound } from './http/error-handler';
import { assignOwner } from './http/owner';
import type { JobService } from './jobs/job-service';
import type { UpstreamScheduler } from './jobs/upstream-scheduler';
import { imageRoutes } from './routes/images';
import { imagineRoutes } from './routes/imagine';
import { jobRoutes } from './routes/jobs';
import type { ImageFiles } from './store/image-files';

export const JSON_BODY_LIMIT = '16kb';

export interface AppDeps {
  jobs: JobService;
  scheduler: UpstreamScheduler;
  budget: KeyBudget;
  images: ImageFiles;
  logger: Logger;
  /** Signs the owner cookie. */
  cookieSecret: string;
  /** The built client (dist/client); when set, the SPA is served from the same origin. */
  clientDist?: string;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    pinoHttp({
      logger: deps.logger,
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok', upstream: deps.jobs.upstreamName });
  });

  const api = express.Router();
  api.use(cookieParser(deps.cookieSecret), assignOwner);
  api.use(imagineRoutes(deps.jobs, deps.scheduler, JSON_BODY_LIMIT));
  api.use(jobRoutes(deps.jobs, deps.scheduler, deps.budget));
  api.use(imageRoutes(deps.jobs, deps.images));
  api.use(notFound);
  app.use('/api', api);

  if (deps.clientDist) app.use(clientAssets(deps.clientDist));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
