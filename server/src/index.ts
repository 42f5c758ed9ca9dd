// The process entry point: reads the environment, picks the upstream (the real v7 API when a
// key is configured, otherwise the built-in simulator), listens, and shuts down gracefully.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app';
import { EnvError, parseEnv } from './env';
import { createLogger } from './logger';
import { DEFAULT_BLOCKED_WORDS, simulatorConfig } from './simulator/config';
import { startSimulator } from './simulator/server';
import { UpstreamHttpClient } from './upstream/http-client';
import { createImageFetcher } from './upstream/image-fetcher';
import { createV7Adapter } from './upstream/v7-adapter';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const envFile = path.join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const logger = createLogger({ level: env.LOG_LEVEL });
const http = new UpstreamHttpClient({ timeoutMs: env.UPSTREAM_TIMEOUT_MS });

const simulator = env.MIDJOURNEY_API_KEY
  ? undefined
  : await startSimulator(
      simulatorConfig({
        apiKey: randomBytes(24).toString('base64url'),
        timeFactor: env.SIM_TIME_FACTOR,
        failureRate: env.SIM_FAILURE_RATE,
        rateLimit: env.SIM_RATE_LIMIT,
        blockedWords:
          env.SIM_BLOCKED_WORDS?.split(',')
            .map((word) => word.trim())
            .filter(Boolean) ?? DEFAULT_BLOCKED_WORDS,
      }),
      { port: env.SIM_PORT },
    );

const upstream = simulator
  ? createV7Adapter({ baseUrl: simulator.baseUrl, apiKey: simulator.engine.config.apiKey, http, name: 'simulator' })
  : createV7Adapter({ baseUrl: env.MIDJOURNEY_API_BASE, apiKey: env.MIDJOURNEY_API_KEY ?? '', http });

if (simulator) {
  logger.warn(
    { simulator: simulator.baseUrl, time_factor: env.SIM_TIME_FACTOR },
    'MIDJOURNEY_API_KEY is not set: running against the built-in simulator, not the real Midjourney API',
  );
} else {
  logger.info({ upstream: env.MIDJOURNEY_API_BASE }, 'using the v7 REST upstream');
}

const clientDist = path.resolve(root, env.CLIENT_DIST ?? 'dist/client');
const serveClient = existsSync(path.join(clientDist, 'index.html'));
if (!serveClient) logger.info({ clientDist }, 'no client build found: serving the API only');

const app = createApp({
  upstream,
  images: createImageFetcher(http, env.IMAGE_MAX_BYTES),
  logger,
  ...(serveClient ? { clientDist } : {}),
});

const server = app.listen(env.PORT, env.HOST, (error?: Error) => {
  if (error) {
    logger.fatal({ err: error }, 'could not listen');
    process.exit(1);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const shownHost = env.HOST === '0.0.0.0' || env.HOST === '127.0.0.1' ? 'localhost' : env.HOST;
  logger.info({ port, host: env.HOST }, `mj-studio listening on http://${shownHost}:${port}`);
});

let stopping = false;
function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.warn('connections did not close in time; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  server.close(async () => {
    await simulator?.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
