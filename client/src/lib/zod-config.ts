// Imported first by contract.ts, before any schema exists: the page runs under a CSP without
// 'unsafe-eval', so zod must not even probe for `new Function` (schemas decide at creation,
// and a caught probe is still reported as a CSP violation).
import { z } from 'zod';

z.config({ jitless: true });
