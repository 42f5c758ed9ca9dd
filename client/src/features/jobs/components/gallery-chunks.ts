// The gallery's parts that a first visit does not need, as chunks of their own (the budget
// in scripts/check-bundle-size.mjs): the viewer, loaded when a job is opened, and the filter
// panel, loaded when "Filters" is opened (or pointed at).
import { lazyModule } from '@/lib/lazy-module';

export const viewerChunk = lazyModule(() => import('./viewer'));
export const filterPanelChunk = lazyModule(() => import('./filter-panel'));
