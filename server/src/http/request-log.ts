// One log line per request that tells something: every change (POST, DELETE, …), every
// failure (499: the client went away first), every slow answer. A successful read (a
// browser's poll every second or two, an image, an asset) is logged only at debug level: at
// info it would be most of the log and a good part of the cost of answering. Paths are
// logged with secret tokens cut out.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    /** The server's logger, for whatever handles this request. */
    log?: Logger;
  }
}

/** A read slower than this is logged even when it succeeded. */
const SLOW_MS = 1_000;
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `/hooks/mj-proxy/<token>…` with the token replaced. */
export const redactHookToken = (url: string): string =>
  url.replace(/^(\/hooks\/mj-proxy\/)[^/?#]*/, '$1[redacted]').replace(/^(\/media\/[^?]*\?).*$/, '$1[redacted]');

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    req.log = logger;
    const started = performance.now();
    // `close` comes for every response, also one whose client went away before it was sent.
    res.once('close', () => {
      const ms = performance.now() - started;
      const status = res.writableFinished ? res.statusCode : 499;
      const notable = status >= 400 || !READS.has(req.method) || ms > SLOW_MS;
      const level = status >= 500 ? 'error' : notable ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { method: req.method, url: redactHookToken(req.originalUrl) },
          res: { statusCode: status },
          ms: Math.round(ms),
        },
        'request completed',
      );
    });
    next();
  };
}
