// The JSON Schema of Midjourney's parameters (a job's `params`, a submission's `params`) for the
// OpenAPI document, made from the one parameter table (shared/schemas/params-values.ts): the
// zod schemas check them with the table's own functions, which JSON Schema cannot see into.
import { MODELS, PARAMS, type ParamDef, SPEEDS } from '@shared/schemas/params-values';

export type JsonSchema = Record<string, unknown>;

/** How the server keeps a value (`output`), or what a request may send for it (`input`). */
function valueSchema(def: ParamDef, io: 'input' | 'output'): JsonSchema {
  const list = (minItems = 1): JsonSchema => ({ type: 'array', items: { type: 'string' }, minItems });
  switch (def.kind) {
    case 'int':
      return { type: 'integer', minimum: def.min, maximum: def.max };
    case 'decimal':
      return { type: 'number', minimum: def.min, maximum: def.max };
    case 'choice':
      return { type: 'number', enum: [...def.values] };
    case 'flag':
      // A request may say false (the same as leaving it out); the server keeps only true.
      return io === 'input' ? { type: 'boolean' } : { type: 'boolean', const: true };
    case 'ratio':
      return { type: 'string', pattern: '^[1-9][0-9]{0,4}:[1-9][0-9]{0,4}$' };
    case 'words':
      return io === 'input' ? { anyOf: [list(), { type: 'string', description: 'comma-separated' }] } : list();
    case 'refs':
      // Personalize (no codes needed) may be sent as true: on, with the default profile.
      return io === 'input' && def.minItems === 0 ? { anyOf: [list(0), { type: 'boolean' }] } : list(def.minItems);
    case 'url':
      return { type: 'string', format: 'uri' };
    case 'model':
      return { type: 'string', enum: [...MODELS] };
    case 'speed':
      return { type: 'string', enum: [...SPEEDS] };
  }
}

/** An object of the table's parameters by API name, each with its flag, bounds and models. */
export function paramsJsonSchema(io: 'input' | 'output'): JsonSchema {
  const properties = Object.fromEntries(
    PARAMS.map((def) => [
      def.key,
      {
        ...valueSchema(def, io),
        title: def.label,
        description: `\`${def.flag}\`: ${def.hint}. Models: ${def.models.join(', ')}.`,
      },
    ]),
  );
  return {
    type: 'object',
    properties,
    additionalProperties: false,
    description:
      io === 'input'
        ? 'Midjourney parameters by API name, as an alternative to writing them in the prompt; each is checked against the same table as the prompt (range, model), and one given in both places must agree.'
        : 'The effective parameters (those given; Midjourney’s defaults stand for the rest).',
  };
}
