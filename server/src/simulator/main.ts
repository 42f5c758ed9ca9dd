// The built-in simulator as a process of its own (`npm run simulator`): the one upstream that
// several instances of the studio share (each instance's built-in one would be a separate
// Midjourney). It speaks every face (v7 under /v1, the relay under /mj, the paid APIs), on loopback.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { simulatorConfig } from './config';
import { startSimulator } from './server';
import { sqliteSimPersistence } from './sim-store';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const envFile = path.join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

const blankless = (value: unknown) => (value === '' ? undefined : value);
const schema = z.object({
  SIM_API_KEY: z.string().min(16, 'must be at least 16 characters (the key the instances send)'),
  SIM_PORT: z.preprocess(blankless, z.coerce.number().int().min(1).max(65535).default(3100)),
  SIM_TIME_FACTOR: z.preprocess(blankless, z.coerce.number().min(0.001).max(100).default(1)),
  SIM_FAILURE_RATE: z.preprocess(blankless, z.coerce.number().min(0).max(1).default(0.08)),
  SIM_RATE_LIMIT: z.preprocess(blankless, z.coerce.number().int().min(1).max(100_000).default(60)),
  SIM_DATA_DIR: z.preprocess(blankless, z.string().default('./data/simulator')),
  /** Signed v7 webhooks to this address (the reverse proxy's /hooks/v7), with this secret. */
  SIM_WEBHOOK_URL: z.preprocess(blankless, z.url().optional()),
  SIM_WEBHOOK_SECRET: z.preprocess(blankless, z.string().startsWith('whsec_').optional()),
});

const parsed = schema.safeParse(process.env);
if (!parsed.success) {
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  process.stderr.write(`Invalid simulator configuration:\n${lines.join('\n')}\n`);
  process.exit(1);
}
const env = parsed.data;
if (Boolean(env.SIM_WEBHOOK_URL) !== Boolean(env.SIM_WEBHOOK_SECRET)) {
  process.stderr.write('Invalid simulator configuration:\n  SIM_WEBHOOK_URL and SIM_WEBHOOK_SECRET go together\n');
  process.exit(1);
}
const dataDir = path.resolve(root, env.SIM_DATA_DIR);
mkdirSync(dataDir, { recursive: true });

const simulator = await startSimulator(
  simulatorConfig({
    apiKey: env.SIM_API_KEY,
    timeFactor: env.SIM_TIME_FACTOR,
    failureRate: env.SIM_FAILURE_RATE,
    rateLimit: env.SIM_RATE_LIMIT,
  }),
  {
    port: env.SIM_PORT,
    deps: { persistence: sqliteSimPersistence(path.join(dataDir, 'simulator.sqlite')) },
    // Relay tasks name their own notifyHook; v7 webhooks go where SIM_WEBHOOK_URL says.
    notify: {
      ...(env.SIM_WEBHOOK_URL && env.SIM_WEBHOOK_SECRET
        ? { v7: { url: env.SIM_WEBHOOK_URL, secret: env.SIM_WEBHOOK_SECRET } }
        : {}),
      lateShare: 0.05,
      duplicateShare: 0.05,
      lateByMs: 2_000,
    },
  },
);
simulator.notifier?.resume();
process.stdout.write(
  `Midjourney simulator listening on ${simulator.baseUrl} (v7; the relay face is ${simulator.baseUrl.replace(/\/v1$/, '/mj')})\n`,
);

const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
