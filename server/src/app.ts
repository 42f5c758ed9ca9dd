// createApp(deps) builds the whole HTTP application from its (already composed) services and
// never listens: compose.ts calls it, tests drive the result with supertest.
import type { Speed } from '@shared/schemas/params-values';
import express from 'express';
import type { Logger } from 'pino';
import type { ApiKeyService } from './access/api-key-service';
import type { SessionService } from './access/session-service';
import { AppError } from './errors';
import { accessRoutes, SESSION_COOKIE, sameOriginGuard } from './http/access';
import { markApiKeyRequest } from './http/api-key-request';
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
import type { Scheduling } from './jobs/scheduling';
import type { UploadService } from './jobs/upload-service';
import { ShareLinks } from './media/share-links';
import type { LimiterFactory } from './rate-limiter';
import { relayAuthenticator } from './relay/auth';
import { MemoryModalBook, type ModalBook } from './relay/modal-book';
import { relayRoutes, relayTaskOf } from './relay/routes';
import { apiKeyRoutes } from './routes/api-keys';
import { imageRoutes } from './routes/images';
import { imagineRoutes } from './routes/imagine';
import { jobRoutes } from './routes/jobs';
import { referenceRoutes } from './routes/reference';
import { mediaRoutes, uploadRoutes } from './routes/uploads';
import { type WebhookOptions, webhookRoutes } from './routes/webhooks';
import { isActive, type JobRecord } from './store/job-store';
import { type NotifyHooks, notifyHookProblem } from './webhooks/notify-hooks';

export const JSON_BODY_LIMIT = '16kb';

/** Where relay clients find the protocol, and the speed mode each prefix sets. */
const RELAY_PREFIXES: readonly [string, Speed | undefined][] = [
  ['/mj', undefined],
  ['/mj-fast/mj', 'fast'],
  ['/mj-relax/mj', 'relax'],
  ['/mj-turbo/mj', 'turbo'],
];

export interface AppDeps {
  jobs: JobService;
  uploads: UploadService;
  scheduler: Scheduling;
  /** The relay protocol's open windows: in memory unless several instances share them. */
  modals?: ModalBook;
  /** Several instances: how often the jobs of relay clients' hooks are read again (a lost message). */
  hooksResyncMs?: number;
  limits: ClientLimits;
  sessions: SessionService;
  /** API keys made in the studio (GET/POST/DELETE /api/keys). */
  apiKeys: ApiKeyService;
  /** Delivers relay clients' notifyHooks; without it, hooks are accepted and never called. */
  notifyHooks?: NotifyHooks;
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
  /** Where wrong guesses are counted (memory unless several instances share them). */
  limiters?: LimiterFactory;
  /** Host names answered besides loopback ones (ALLOWED_HOSTS, PUBLIC_URL's, HOST's). */
  hosts?: HostAllowListOptions;
  /** Where this server is reached from outside: the origin of the links relay clients get. */
  publicUrl?: string | undefined;
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
  // Relay clients join a base URL ending in "/" with "/mj/...": "//mj/..." means "/mj/...".
  app.use((req, _res, next) => {
    if (/^\/{2,}mj/.test(req.url)) req.url = req.url.replace(/^\/+/, '/');
    // "/mj-fast//mj/..." likewise.
    if (/^\/mj-(fast|relax|turbo)\/{2,}mj/.test(req.url)) req.url = req.url.replace(/^(\/mj-\w+)\/+/, '$1/');
    next();
  });
  const allowHost = hostAllowList(security.hosts ?? { allowedHosts: [], listenHost: '127.0.0.1' });
  const cors = corsPolicy(allowedOrigins);

  const api = express.Router();
  // A studio API key is its own owner on either face (/api and /mj); a request it opened may
  // use the key's jobs but never manage keys (routes/api-keys.ts).
  const apiKey = (req: express.Request, secret: string) => {
    const verdict = deps.apiKeys.authenticate(secret);
    if (verdict.status === 'live') markApiKeyRequest(req);
    return verdict;
  };
  const access = accessRoutes({
    token: security.accessToken,
    sessions: deps.sessions,
    adopt: (from, to) => deps.jobs.adoptOwner(from, to),
    apiKey,
    ...(security.signInAttempts !== undefined ? { signInAttempts: security.signInAttempts } : {}),
    ...(security.limiters ? { limiters: security.limiters } : {}),
  });
  // The OpenAPI document and its reference page need no credentials and make no owner.
  referenceRoutes(api, allowHost);
  // Every other /api request passes these in order; one layer, not seven, since a poll goes
  // through them every second or two per browser tab. The API comes first among the app's routes too.
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
  jobRoutes(api, { jobs, scheduler, present });
  imagineRoutes(api, { jobs, scheduler, limits: deps.limits, present, jsonLimit: JSON_BODY_LIMIT });
  imageRoutes(api, jobs);
  uploadRoutes(api, deps.uploads, deps.limits);
  apiKeyRoutes(api, deps.apiKeys);
  access.sessionRoutes(api);
  api.use(notFound);
  app.use('/api', api);

  // Says nothing worth a rebinding attack, and load balancers ask for it by address.
  app.get('/healthz', pageSecurityHeaders, (_req, res) => {
    // Each account's state and load: what a load balancer or an operator checks first.
    res
      .set('Cache-Control', 'no-store')
      .json({ status: 'ok', upstream: deps.jobs.upstreamName, accounts: deps.scheduler.accounts(false) });
  });
  // Webhooks prove who sends them (a signature, a secret path token), whatever name they used.
  app.use('/hooks', pageSecurityHeaders, webhookRoutes(deps.webhooks));
  // The relay protocol answers CORS its own way (relayCors below), before the API's policy.
  const RELAY_PATH = /^\/mj(-fast|-relax|-turbo)?(\/|$)/;
  app.use(allowHost, pageSecurityHeaders, (req, res, next) =>
    RELAY_PATH.test(req.path) ? next() : cors(req, res, next),
  );
  // Signed links to our images, for an upstream that fetches image inputs by URL, and share
  // links to kept results, for the pictures relay clients show.
  const shareLinks = new ShareLinks(deps.cookieSecret);
  app.use(
    '/media',
    mediaRoutes(deps.uploads, (name, key) => {
      if (!shareLinks.verify(name, key)) throw new AppError(404, 'not_found', 'No such file');
      return deps.jobs.sharedFile(name);
    }),
  );

  // The midjourney-proxy protocol, for the clients people already run (relay/routes.ts); the
  // speed prefixes set the job's speed mode.
  const origin = (req: express.Request) =>
    (security.publicUrl ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');
  const links = (at: string, job: JobRecord) => ({
    imageUrl: job.imageFile ? `${at}${shareLinks.path(job.imageFile)}` : undefined,
    videoUrl: job.videoFile ? `${at}${shareLinks.path(job.videoFile)}` : undefined,
  });
  // A client's notifyHook hears of every change of its task, with links at the origin it used.
  const hookOrigins = new Map<string, string>();
  // A status check that learnt nothing new changes the record, not the task: one POST per news.
  const lastNews = new Map<string, string>();
  const { notifyHooks } = deps;
  const task = relayTaskOf({ jobs, present, links });
  const notify = (job: JobRecord) => {
    const at = hookOrigins.get(job.id);
    if (!notifyHooks || at === undefined || !notifyHooks.isTracked(job.id)) return;
    const news = `${job.status}|${Math.round(job.progress ?? 0)}`;
    if (lastNews.get(job.id) === news) return;
    lastNews.set(job.id, news);
    // As bounded as the hooks: jobs forgotten there (or deleted while running) age out here.
    if (lastNews.size > 10_000) lastNews.delete(lastNews.keys().next().value ?? '');
    if (!isActive(job.status)) {
      lastNews.delete(job.id);
      hookOrigins.delete(job.id);
    }
    notifyHooks.changed(job.id, task(at, job));
  };
  jobs.onChange(notify);
  // With several instances, another may change a job whose hook this one was given: it says
  // so (`changed`), and now and then the hooks' jobs are read again in case a message was lost.
  jobs.followsElsewhere((id) => hookOrigins.has(id));
  if (deps.hooksResyncMs) {
    setInterval(() => {
      for (const id of [...hookOrigins.keys()]) {
        try {
          const job = jobs.find(id);
          if (job) notify(job);
          else hookOrigins.delete(id);
        } catch (error) {
          deps.logger.warn({ err: error, job_id: id }, 'a hook’s job could not be read again');
        }
      }
    }, deps.hooksResyncMs).unref();
  }
  const relayDeps = {
    jobs,
    scheduler,
    limits: deps.limits,
    uploads: deps.uploads,
    present,
    authenticate: relayAuthenticator({
      guarded: Boolean(security.accessToken),
      // The socket's own peer, never a forwarded header: a proxy in front is not this machine.
      fromLoopback: (req) => isLoopback(req.socket.remoteAddress ?? ''),
      checkSecret: (req, secret) => access.checkSecret(req, secret, (given) => apiKey(req, given)),
    }),
    origin,
    links,
    modals: deps.modals ?? new MemoryModalBook(),
    ...(notifyHooks
      ? {
          hooks: {
            problem: notifyHookProblem,
            track: (jobId: string, url: string, at: string) => {
              notifyHooks.track(jobId, url);
              hookOrigins.set(jobId, at);
              // Its first notice says where it stands now (submitted, or waiting for budget).
              const job = jobs.find(jobId);
              if (job) notify(job);
              // As bounded as the hooks themselves: the oldest origin goes first.
              if (hookOrigins.size > 10_000) hookOrigins.delete(hookOrigins.keys().next().value ?? '');
            },
          },
        }
      : {}),
  };
  // Browser-side clients call the protocol from their own pages: with a secret required (an
  // access token), any page may, since a request carries no ambient credential; without one,
  // only CORS_ORIGINS' pages, or any site could spend this server's budget from its visitors.
  const relayCors: express.RequestHandler = (req, res, next) => {
    const from = req.get('origin');
    const open = Boolean(security.accessToken);
    if (from && (open || allowedOrigins.includes(from))) {
      res.set('Access-Control-Allow-Origin', open ? '*' : from).vary('Origin');
      if (req.method === 'OPTIONS') {
        res
          .set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
          .set('Access-Control-Allow-Headers', 'content-type, mj-api-secret, authorization, x-ptoken')
          .set('Access-Control-Max-Age', '600')
          .status(204)
          .end();
        return;
      }
    }
    next();
  };
  for (const [prefix, speed] of RELAY_PREFIXES) app.use(prefix, relayCors, relayRoutes(relayDeps, speed));

  if (deps.clientDist) app.use(clientAssets(deps.clientDist));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6. */
function isLoopback(address: string): boolean {
  return /^(127\.|::ffff:127\.)/.test(address) || address === '::1';
}

/** "true", a hop count, or a list of addresses/subnets, as Express understands them. */
function trustProxyValue(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
