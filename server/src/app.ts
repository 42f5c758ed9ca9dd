// createApp(deps) builds the whole HTTP application from its (already composed) services and
// never listens: compose.ts calls it, tests drive the result with supertest.
import express from 'express';
import type { Logger } from 'pino';
import type { SessionService } from './access/session-service';
import type { KeyBudget } from './budget/key-budget';
import { accessRoutes, SESSION_COOKIE, sameOriginGuard } from './http/access';
import { clientAssets } from './http/client-assets';
import { errorHandler, notFound } from './http/error-handler';
import { type HostAllowListOptions, hostAllowList } from './http/host-allow-list';
import { jobPresenter } from './http/job-view';
import { assignOwner, OWNER_COOKIE } from './http/owner';
import { requestLog } from './http/request-log';
import { apiSecurityHeaders, corsPolicy, pageSecurityHeaders } from './http/security-headers';
import { series } from './http/series';
import { signedCookies } from './http/signed-cookies';
import type { ClientLimits } from './jobs/client-limits';
import type { JobService } from './jobs/job-service';
import type { UploadService } from './jobs/upload-service';
import type { UpstreamScheduler } from './jobs/upstream-scheduler';
import { imageRoutes } from './routes/images';
import { imagineRoutes } from './routes/imagine';
import { jobRoutes } from './routes/jobs';
import { mediaRoutes, uploadRoutes } from './routes/uploads';
import { type WebhookOptions, webhookRoutes } from './routes/webhooks';

export const JSON_BODY_LIMIT = '16kb';

export interface AppDeps {
  jobs: JobService;
  uploads: UploadService;
  scheduler: UpstreamScheduler;
  budget: KeyBudget;
  limits: ClientLimits;
  sessions: SessionService;
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
  /** Wrong access tokens allowed per address in 15 minutes. */
  signInAttempts?: number;
  /** Host names answered besides loopback ones (ALLOWED_HOSTS, PUBLIC_URL's, HOST's). */
  hosts?: HostAllowListOptions;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // JSON answers are no-store: hashing every body for an ETag would be work for nothing. A
  // function (not `false`) keeps ETags on files (images, the client), which read the setting.
  app.set('etag', () => undefined);
  const security = deps.security ?? {};
  const allowedOrigins = security.allowedOrigins ?? [];
  if (security.trustProxy) app.set('trust proxy', trustProxyValue(security.trustProxy));
  app.use(requestLog(deps.logger));
  const allowHost = hostAllowList(security.hosts ?? { allowedHosts: [], listenHost: '127.0.0.1' });
  const cors = corsPolicy(allowedOrigins);

  const api = express.Router();
  const access = accessRoutes({
    token: security.accessToken,
    sessions: deps.sessions,
    ...(security.signInAttempts !== undefined ? { signInAttempts: security.signInAttempts } : {}),
  });
  // Every /api request passes these in order; one layer, not seven, since a poll goes through
  // them every second or two per browser tab. The API comes first among the app's routes too.
  api.use(
    series([
      allowHost,
      apiSecurityHeaders,
      cors,
      signedCookies(deps.cookieSecret, [OWNER_COOKIE, SESSION_COOKIE]),
      access.guard,
      sameOriginGuard(allowedOrigins),
      assignOwner(deps.limits, Boolean(security.accessToken)),
    ]),
  );
  // The routes sit on the one /api router (no router per module), so a request is matched once;
  // the job routes, which the polls hit, come first.
  const present = jobPresenter(deps.jobs, deps.scheduler, deps.uploads, deps.now);
  const { jobs, scheduler } = deps;
  jobRoutes(api, { jobs, scheduler, budget: deps.budget, present });
  imagineRoutes(api, { jobs, scheduler, limits: deps.limits, present, jsonLimit: JSON_BODY_LIMIT });
  imageRoutes(api, jobs);
  uploadRoutes(api, deps.uploads, deps.limits);
  access.sessionRoutes(api);
  api.use(notFound);
  app.use('/api', api);

  // Says nothing worth a rebinding attack, and load balancers ask for it by address.
  app.get('/healthz', pageSecurityHeaders, (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok', upstream: deps.jobs.upstreamName });
  });
  // Webhooks prove who sends them (a signature, a secret path token), whatever name they used.
  app.use('/hooks', pageSecurityHeaders, webhookRoutes(deps.webhooks));
  app.use(allowHost, pageSecurityHeaders, cors);
  // Signed links to our images, for an upstream that fetches image inputs by URL.
  app.use('/media', mediaRoutes(deps.uploads));

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
