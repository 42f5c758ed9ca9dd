// The shared zod schemas the page checks answers and prompts with, the prompt grammar they are
// built on (parser, printer, parameter checks) and the values of their modules. They load as a
// chunk of their own, through loadContract() in api-client.ts: zod is a fifth of the page's
// JavaScript and the grammar another few KB, and nothing needs them before the first answer
// arrives. Import this module only that way (components read it with useContract()), and take
// values from shared/'s zod modules only through it: a lazy chunk importing one of them would
// split it into a chunk of its own that runs before zod-config, and zod's eval probe would
// break the CSP.
import './zod-config';
import { z } from 'zod';

export { accountListSchema } from '@shared/schemas/account';
export {
  API_KEY_NAME_MAX,
  apiKeyListSchema,
  createdApiKeySchema,
  MAX_LIVE_API_KEYS,
} from '@shared/schemas/api-key';
export { errorBodySchema } from '@shared/schemas/error';
export { imagineRequestSchema } from '@shared/schemas/imagine';
export { budgetSchema, jobListSchema, jobSchema, lineageSchema } from '@shared/schemas/job';
export {
  checkModel,
  paramCost,
  parsePrompt,
  printPrompt,
  validateParams,
  withParam,
} from '@shared/schemas/prompt-params';
export { sessionStateSchema } from '@shared/schemas/session';
export {
  BLEND_SHAPES,
  MAX_IMAGE_PROMPTS,
  MAX_STYLE_REFS,
  REFERENCE_ROLES,
  uploadSchema,
} from '@shared/schemas/upload';

/** An answer without a body (204). */
export const noContentSchema = z.undefined();
