// The shared zod schemas the page checks answers and prompts with, and the prompt grammar they
// are built on (parser, printer, parameter checks). They load as a chunk of their own, through
// loadContract() in api-client.ts: zod is a fifth of the page's JavaScript and the grammar
// another few KB, and nothing needs them before the first answer arrives. Import this module
// only that way (components that render later read it with useContract()).
import './zod-config';
import { z } from 'zod';

export { errorBodySchema } from '@shared/schemas/error';
export { imagineRequestSchema } from '@shared/schemas/imagine';
export { budgetSchema, jobListSchema, jobSchema } from '@shared/schemas/job';
export {
  checkModel,
  paramCost,
  parsePrompt,
  printPrompt,
  validateParams,
  withParam,
} from '@shared/schemas/prompt-params';
export { sessionStateSchema } from '@shared/schemas/session';
export { MAX_IMAGE_PROMPTS, MAX_STYLE_REFS, uploadSchema } from '@shared/schemas/upload';

/** An answer without a body (204). */
export const noContentSchema = z.undefined();
