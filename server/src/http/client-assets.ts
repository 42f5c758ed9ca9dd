// Serves the built SPA from the same process: hashed assets cached for a year, index.html
// never cached, and client-side routes answered with index.html.
import path from 'node:path';
import express, { type Router } from 'express';

export function clientAssets(distDir: string): Router {
  const router = express.Router();
  const indexFile = path.join(distDir, 'index.html');
  router.use(
    express.static(distDir, {
      index: false,
      setHeaders(res, filePath) {
        const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  router.get('/{*route}', (req, res, next) => {
    // A missing file (it has an extension) is a 404, not the app shell.
    if (path.extname(req.path) || !req.accepts('html')) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexFile);
  });
  return router;
}
