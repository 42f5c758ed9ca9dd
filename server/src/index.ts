// The process entry point, and nothing more: read the environment, compose the server
// (compose.ts), listen, and shut down gracefully on SIGTERM or SIGINT.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AccountSpec, loadAccountsFile } from './accounts/accounts-file';
import { createServer } from './compose';
import { EnvError, exposureProblem, parseEnv } from './env';

// server/src/index.ts in development, dist/server/index.js when built: the root is two up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const envFile = path.join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

let env: ReturnType<typeof parseEnv>;
let accounts: AccountSpec[] | undefined;
try {
  env = parseEnv(process.env);
  // The file's `env:NAME` secrets are read from this process's environment.
  accounts = env.ACCOUNTS_FILE ? loadAccountsFile(path.resolve(root, env.ACCOUNTS_FILE), process.env) : undefined;
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
const exposure = exposureProblem(env);
if (exposure) {
  process.stderr.write(`Refusing to start.\n${exposure}\n`);
  process.exit(1);
}

const clientDist = path.resolve(root, env.CLIENT_DIST ?? 'dist/client');
const serveClient = existsSync(path.join(clientDist, 'index.html'));
let composed: Awaited<ReturnType<typeof createServer>>;
try {
  composed = await createServer({
    ...env,
    DATA_DIR: path.resolve(root, env.DATA_DIR),
    CLIENT_DIST: serveClient ? clientDist : undefined,
    accounts,
  });
} catch (error) {
  // A setting that cannot work, or PostgreSQL or Redis out of reach: say so, without a stack.
  if (error instanceof EnvError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { logger } = composed;
if (!serveClient) logger.info({ clientDist }, 'no client build found: serving the API only');
if (accounts) {
  logger.info(
    {
      accounts: accounts.map(({ name, kind, perMinute, enabled }) => ({ name, kind, per_minute: perMinute, enabled })),
    },
    `using a pool of ${accounts.length} upstream accounts`,
  );
} else if (composed.simulator) {
  logger.warn(
    { simulator: composed.simulator.baseUrl, protocol: env.SIM_PROTOCOL, time_factor: env.SIM_TIME_FACTOR },
    'No upstream configured (MIDJOURNEY_API_KEY or UPSTREAM): running against the built-in simulator, not the real Midjourney API',
  );
} else {
  const base = composed.upstreamKind === 'mj-proxy' ? env.MJ_PROXY_BASE : env.MIDJOURNEY_API_BASE;
  logger.info({ upstream: composed.upstreamKind, base }, `using the ${composed.upstreamKind} upstream`);
}

if ((env.HOST === '0.0.0.0' || env.HOST === '::') && !env.ALLOWED_HOSTS && !env.PUBLIC_URL) {
  logger.warn(
    { host: env.HOST },
    'Listening on every address, but only loopback Host names are answered (DNS rebinding defence): set ALLOWED_HOSTS to the names or addresses others use to reach this server',
  );
}

let server: Awaited<ReturnType<typeof composed.listen>>;
try {
  server = await composed.listen(env.PORT, env.HOST);
} catch (error) {
  logger.fatal({ err: error }, 'could not listen');
  process.exit(1);
}
const address = server.address();
const port = typeof address === 'object' && address ? address.port : env.PORT;
const shownHost = env.HOST === '0.0.0.0' || env.HOST === '127.0.0.1' ? 'localhost' : env.HOST;
logger.info(
  { port, host: env.HOST, data_dir: composed.config.DATA_DIR },
  `mj-studio listening on http://${shownHost}:${port}`,
);

let stopping = false;
function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  composed.scheduler.stop();
  const force = setTimeout(() => {
    logger.warn('connections did not close in time; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  server.close(async () => {
    await composed.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
