// One pino logger for the process. Credentials never reach a log line: request headers that
// carry them are redacted, and outbound upstream calls are never logged with their headers.
import { type DestinationStream, type Logger, pino } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["mj-api-secret"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    options.destination,
  );
}
