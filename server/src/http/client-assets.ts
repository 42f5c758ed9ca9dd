// Serves the built SPA from the same process: hashed assets cached for a year, index.html
// never cached, client-side routes answered with index.html. Text files go out as the build
// compressed them (name.br, name.gz: see vite.config.ts) when the browser accepts that;
// source maps never leave the server.
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** The text files the build compresses, with the type express.static gives the plain file. */
const TEXT_TYPES = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.txt', 'text/plain; charset=utf-8'],
]);
/** In the server's order of preference: brotli is the smaller. */
const CODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
  { name: 'identity', suffix: '' },
] as const;
type Coding = (typeof CODINGS)[number]['name'];

export function clientAssets(distDir: string): Router {
  const router = express.Router();
  const root = path.resolve(distDir);
  // express.static keeps every path inside root, and gives each copy its own ETag and 304s.
  const serve = express.static(root, {
    index: false,
    redirect: false,
    setHeaders(res, filePath) {
      const relative = path.relative(root, filePath);
      const coding = CODINGS.find(({ suffix }) => suffix && relative.endsWith(suffix));
      const original = coding ? relative.slice(0, -coding.suffix.length) : relative;
      const type = TEXT_TYPES.get(path.extname(original));
      if (coding && type) {
        res.setHeader('Content-Encoding', coding.name);
        res.setHeader('Content-Type', type);
      }
      res.setHeader('Cache-Control', cacheControlFor(original));
    },
  });

  router.use((req, _res, next) => {
    // A source map would hand out the client's whole source: a 404, like any missing file.
    if (path.extname(req.path) === '.map') next('router');
    else next();
  });
  router.use((req, res, next) => {
    if (TEXT_TYPES.has(path.extname(req.path))) sendText(req, res, next, req.path);
    else serve(req, res, next);
  });
  router.get('/{*route}', (req, res, next) => {
    // A missing file (it has an extension) is a 404, not the app shell.
    if (path.extname(req.path) || !req.accepts('html')) next();
    else sendText(req, res, next, '/index.html');
  });
  return router;

  /**
   * Sends the best copy of a text file the request accepts (file.br, file.gz, the file); none
   * there: the next handler answers (the app shell, or a 404).
   */
  function sendText(req: Request, res: Response, next: NextFunction, file: string): void {
    res.vary('Accept-Encoding');
    const url = req.url;
    const codings = preferredCodings(req.headers['accept-encoding']);
    const attempt = (index: number): void => {
      const coding = CODINGS.find(({ name }) => name === codings[index]);
      req.url = coding ? file + coding.suffix : url;
      if (!coding) next();
      else serve(req, res, (error?: unknown) => (error ? next(error) : attempt(index + 1)));
    };
    attempt(0);
  }
}

/** Hashed assets never change under their name; anything else is checked with the server each time. */
function cacheControlFor(file: string): string {
  const hashed = file.split(/[\\/]/).find(Boolean) === 'assets';
  return hashed ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/**
 * The codings an Accept-Encoding header allows, best first: by the header's weights, then the
 * server's order. A coding the header does not name takes the weight of `*`, or none; identity
 * is acceptable, last, unless excluded. No header at all: identity only.
 */
export function preferredCodings(header: string | undefined): Coding[] {
  const weights = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = params.map((param) => /^q=([\d.]+)$/.exec(param)?.[1]).find((value) => value !== undefined);
    if (name) weights.set(name, q === undefined ? 1 : Number(q));
  }
  const weightOf = (name: Coding) => weights.get(name) ?? weights.get('*') ?? (name === 'identity' ? 0.001 : 0);
  // sort is stable: equal weights keep the server's order.
  return CODINGS.map(({ name }) => name)
    .filter((name) => weightOf(name) > 0)
    .sort((a, b) => weightOf(b) - weightOf(a));
}
