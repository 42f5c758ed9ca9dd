// The shared zod schemas the page checks answers and prompts with. They load as a chunk of
// their own, through loadContract() in api-client.ts: zod is a fifth of the page's JavaScript,
// and nothing needs it before the first answer arrives. Import this module only that way.
import './zod-config';
import { z } from 'zod';

export { errorBodySchema } from '@shared/schemas/error';
export { imagineRequestSchema } from '@shared/schemas/imagine';
export { budgetSchema, jobListSchema, jobSchema } from '@shared/schemas/job';
export { sessionStateSchema } from '@shared/schemas/session';

/** An answer without a body (204). */
export const noContentSchema = z.undefined();
