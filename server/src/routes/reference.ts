// GET /api/openapi.json, /api/docs and /api/docs/:file: the OpenAPI document and its reference
// page. Open to anyone, ACCESS_TOKEN or not, and owner-less (no cookie is made): they describe
// the API and hold nothing of anyone's. The page's files are read once, kept with a gzip copy
// and an ETag, and revalidated on each visit (a new swagger-ui-dist changes them).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RequestHandler, Router } from 'express';
import { AppError } from '../errors';
import { openApiDocument } from '../http/openapi';
import { REFERENCE_FILES, REFERENCE_HTML, type ReferenceFile } from '../http/reference-page';
import { apiSecurityHeaders, pageSecurityHeaders } from '../http/security-headers';

const compress = promisify(gzip);

interface KeptFile {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

const isReferenceFile = (name: string): name is ReferenceFile => Object.hasOwn(REFERENCE_FILES, name);

export function referenceRoutes(router: Router, allowHost: RequestHandler): void {
  let documentText: string | undefined;
  router.get('/openapi.json', allowHost, apiSecurityHeaders, (_req, res) => {
    documentText ??= JSON.stringify(openApiDocument());
    res.set('Cache-Control', 'no-cache').type('application/json').send(documentText);
  });

  router.get('/docs', allowHost, pageSecurityHeaders, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('html').send(REFERENCE_HTML);
  });

  const kept = new Map<ReferenceFile, Promise<KeptFile>>();
  const load = async (name: ReferenceFile): Promise<KeptFile> => {
    const source = REFERENCE_FILES[name];
    const body = 'file' in source ? await readFile(source.file) : Buffer.from(source.text);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    return { type: source.type, body, gzipped: await compress(body, { level: 9 }), etag };
  };

  router.get('/docs/:file', allowHost, pageSecurityHeaders, async (req, res) => {
    const name = req.params.file;
    if (typeof name !== 'string' || !isReferenceFile(name))
      throw new AppError(404, 'not_found', 'No such file of the reference page');
    let file = kept.get(name);
    if (!file) {
      file = load(name);
      kept.set(name, file);
      file.catch(() => kept.delete(name));
    }
    const { type, body, gzipped, etag } = await file;
    res.set('Cache-Control', 'no-cache').set('ETag', etag).vary('Accept-Encoding');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    const zipped = req.acceptsEncodings('gzip') === 'gzip';
    if (zipped) res.set('Content-Encoding', 'gzip');
    res.type(type).send(zipped ? gzipped : body);
  });
}
