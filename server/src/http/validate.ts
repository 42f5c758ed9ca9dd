// Turns a zod failure at our own boundary into a 400 that names every field at fault.
import type { z } from 'zod';
import { AppError } from '../errors';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'Unknown field' }));
    }
    return [{ path: issue.path.map(String).join('.') || what, message: issue.message }];
  });
  const summary = fields
    .map((field) => (field.path === what ? field.message : `${field.path}: ${field.message}`))
    .join('; ');
  throw new AppError(400, 'invalid_request', `Invalid ${what}: ${summary}`, { fields });
}
