// GET /api/openapi.json, /api/docs and /api/docs/:file: the OpenAPI document and its reference
// page. Open to anyone, ACCESS_TOKEN or not, and owner-less (no cookie is made): they describe
// the API and hold nothing of anyone's. The document and the page's files are made or read
// once, kept with a gzip copy, each copy with an ETag of its own, and revalidated on each visit
// (a new swagger-ui-dist or a new server changes them).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Request, RequestHandler, Response, Router } from 'express';
import { AppError } from '../errors';
import { openApiDocument } from '../http/openapi';
import { REFERENCE_FILES, REFERENCE_HTML, type ReferenceFile } from '../http/reference-page';
import { apiSecurityHeaders, pageSecurityHeaders } from '../http/security-headers';

const compress = promisify(gzip);

interface Kept {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  /** The plain copy's ETag; the gzip copy's is the same with `-gz`, since its bytes differ. */
  etag: string;
}

const isReferenceFile = (name: string): name is ReferenceFile => Object.hasOwn(REFERENCE_FILES, name);

async function keep(type: string, body: Buffer): Promise<Kept> {
  const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { type, body, gzipped: await compress(body, { level: 9 }), etag: tag };
}

/** Made on first use; a failure is forgotten, so the next request tries again. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (!made) {
      made = make();
      made.catch(() => {
        made = undefined;
      });
    }
    return made;
  };
}

/** The copy the client takes (gzip when it accepts it), or 304 when its copy is that one. */
function send(req: Request, res: Response, { type, body, gzipped, etag }: Kept): void {
  const zipped = req.acceptsEncodings('gzip') === 'gzip';
  res
    .set('Cache-Control', 'no-cache')
    .set('ETag', zipped ? `"${etag}-gz"` : `"${etag}"`)
    .vary('Accept-Encoding');
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  if (zipped) res.set('Content-Encoding', 'gzip');
  res.type(type).send(zipped ? gzipped : body);
}

export function referenceRoutes(router: Router, allowHost: RequestHandler): void {
  const document = once(() => keep('application/json', Buffer.from(JSON.stringify(openApiDocument()))));
  router.get('/openapi.json', allowHost, apiSecurityHeaders, async (req, res) => {
    send(req, res, await document());
  });

  router.get('/docs', allowHost, pageSecurityHeaders, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('html').send(REFERENCE_HTML);
  });

  const files = new Map<ReferenceFile, () => Promise<Kept>>();
  const fileOf = (name: ReferenceFile) => {
    let file = files.get(name);
    if (!file) {
      const source = REFERENCE_FILES[name];
      file = once(async () =>
        keep(source.type, 'file' in source ? await readFile(source.file) : Buffer.from(source.text)),
      );
      files.set(name, file);
    }
    return file();
  };

  router.get('/docs/:file', allowHost, pageSecurityHeaders, async (req, res) => {
    const name = req.params.file;
    if (typeof name !== 'string' || !isReferenceFile(name))
      throw new AppError(404, 'not_found', 'No such file of the reference page');
    send(req, res, await fileOf(name));
  });
}
