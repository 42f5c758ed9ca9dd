// The gallery (search, cards, the viewer's trigger) as a chunk of its own, loaded beside the
// prompt form for the same reason (prompt-box.ts): the studio shows only after the session answer.
import { lazyModule } from '@/lib/lazy-module';

export const galleryBox = lazyModule(() => import('./gallery'));
