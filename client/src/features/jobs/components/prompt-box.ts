// The prompt form as a chunk of its own. The studio shows only after the session answer, which
// waits for the contract chunk anyway; loading the form beside it costs the studio no time and
// the first visit's budget none of the form's bytes (scripts/check-bundle-size.mjs).
import { lazyModule } from '@/lib/lazy-module';

export const promptBox = lazyModule(() => import('./prompt-form'));
