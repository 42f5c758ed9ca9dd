// GET, POST /api/keys and DELETE /api/keys/:id: the caller's API keys, for scripts and
// midjourney-proxy clients. The secret leaves once, in POST's answer; a request made with an
// API key may not manage keys at all.
import {
  type ApiKey,
  type ApiKeyList,
  apiKeyIdSchema,
  type CreatedApiKey,
  createApiKeyRequestSchema,
} from '@shared/schemas/api-key';
import express, { type RequestHandler, type Router } from 'express';
import type { ApiKeyInfo, ApiKeyService } from '../access/api-key-service';
import { AppError } from '../errors';
import { isApiKeyRequest } from '../http/api-key-request';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';

const toApiKeyView = (key: ApiKeyInfo): ApiKey => ({
  id: key.id,
  name: key.name,
  hint: key.hint,
  created_at: new Date(key.createdAt).toISOString(),
  last_used_at: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
  revoked_at: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
});

const notByApiKey: RequestHandler = (req, _res, next) => {
  if (isApiKeyRequest(req)) {
    throw new AppError(403, 'forbidden', 'An API key cannot manage API keys: sign in to the studio');
  }
  next();
};

export function apiKeyRoutes(router: Router, apiKeys: ApiKeyService): void {
  router.get('/keys', notByApiKey, (req, res) => {
    const body: ApiKeyList = { keys: apiKeys.list(ownerOf(req)).map(toApiKeyView) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/keys', notByApiKey, express.json({ limit: '2kb' }), (req, res) => {
    const input = parseOrThrow(createApiKeyRequestSchema, req.body, 'request body');
    const { record, secret } = apiKeys.create(ownerOf(req), input.name);
    const body: CreatedApiKey = { key: toApiKeyView(record), secret };
    res.status(201).set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/keys/:keyId', notByApiKey, (req, res) => {
    const id = parseOrThrow(apiKeyIdSchema, req.params.keyId, 'key id');
    apiKeys.revoke(ownerOf(req), id);
    res.status(204).end();
  });
}
