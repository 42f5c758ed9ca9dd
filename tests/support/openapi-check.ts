// Judges real answers against the OpenAPI document: the operation a request went to, whether
// the document lists the status it got, and the body against that status's schema (ajv, JSON
// Schema 2020-12, the document's components as $defs), or its media type; required headers too.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import type { OpenApiDocument } from '../../server/src/http/openapi';

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  pattern: RegExp;
  responses: Record<string, DocumentedAnswer>;
}

interface DocumentedAnswer {
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, { required?: boolean }>;
}

export interface Answer {
  method: string;
  /** The path the request went to, query string included or not. */
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Bytes of the body, for answers that must have none. */
  length: number;
}

const COMPONENTS_ID = 'https://mj-studio.test/components';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every operation of the document, with a pattern that matches its concrete paths. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, { operationId?: string; responses?: Record<string, DocumentedAnswer> }>)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({
        method,
        path,
        operationId: operation.operationId ?? '',
        pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+').replaceAll('.', '\\.')}$`),
        responses: operation.responses ?? {},
      })),
  );
}

/** An ajv that knows the document's components, strict about the schemas themselves. */
export function schemaCompiler(document: OpenApiDocument): (schema: unknown) => ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  const local = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/'));
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: local(document.components?.schemas ?? {}) });
  const compiled = new Map<string, ValidateFunction>();
  return (schema) => {
    const text = JSON.stringify(schema).replaceAll('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`);
    let validate = compiled.get(text);
    if (!validate) {
      validate = ajv.compile(JSON.parse(text));
      compiled.set(text, validate);
    }
    return validate;
  };
}

/** A supertest answer as the checker reads it. */
export function answerOf(response: Response): Answer {
  const request = (response as unknown as { req: { method: string; path: string } }).req;
  const body: unknown = response.body;
  const length = Buffer.isBuffer(body) ? body.length : (response.text ?? '').length;
  return {
    method: request.method,
    url: request.path,
    status: response.status,
    headers: response.headers,
    body,
    length,
  };
}

export function openApiChecker(document: OpenApiDocument) {
  const operations = operationsOf(document);
  const compile = schemaCompiler(document);

  const operationFor = (method: string, url: string): Operation | undefined => {
    const path = url.split('?')[0] ?? '';
    return operations.find((operation) => operation.method === method.toLowerCase() && operation.pattern.test(path));
  };

  /** What is wrong with this answer, by the document; empty when it conforms. */
  const problems = (answer: Answer): string[] => {
    const where = `${answer.method} ${answer.url} ${answer.status}`;
    const operation = operationFor(answer.method, answer.url);
    if (!operation) return [`${where}: no operation in the document`];
    const documented = operation.responses[String(answer.status)];
    if (!documented) return [`${where}: status not documented for ${operation.operationId}`];
    const found: string[] = [];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (header.required && answer.headers[name.toLowerCase()] === undefined)
        found.push(`${where}: no ${name} header`);
    }
    const type = String(answer.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim();
    const content = documented.content;
    if (!content) {
      if (answer.length > 0) found.push(`${where}: a body where the document says none`);
      return found;
    }
    const media = type ? content[type] : undefined;
    if (!media) return [...found, `${where}: content type ${type || 'none'} is not one of ${Object.keys(content)}`];
    if (type === 'application/json') {
      const validate = compile(media.schema);
      if (!validate(answer.body)) found.push(`${where}: ${JSON.stringify(validate.errors)}`);
    }
    return found;
  };

  return { operations, operationFor, problems };
}
