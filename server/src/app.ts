// createApp(deps) builds the whole HTTP application from its dependencies and never listens:
// tests drive it with supertest, index.ts puts it on a port.
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { clientAssets } from './http/client-assets';
import { errorHandler, notFound } from './http/error-handler';
import { imagineRoutes } from './routes/imagine';
import { jobRoutes } from './routes/jobs';
import type { UpstreamAdapter } from './upstream/adapter';
import type { ImageFetcher } from './upstream/image-fetcher';
import { ResultLinks } from './upstream/result-links';

export const JSON_BODY_LIMIT = '16kb';

export interface AppDeps {
  upstream: UpstreamAdapter;
  images: ImageFetcher;
  logger: Logger;
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
    res.set('Cache-Control', 'no-store').json({ status: 'ok', upstream: deps.upstream.name });
  });

  const api = express.Router();
  api.use(imagineRoutes(deps.upstream, JSON_BODY_LIMIT));
  api.use(jobRoutes({ upstream: deps.upstream, images: deps.images, links: new ResultLinks() }));
  api.use(notFound);
  app.use('/api', api);

  if (deps.clientDist) app.use(clientAssets(deps.clientDist));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
