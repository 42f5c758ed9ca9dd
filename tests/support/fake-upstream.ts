// An in-memory upstream whose jobs finish on the (fake) clock: every call it receives is
// recorded with its time; refusals queued in `refusals` answer the next calls with 429s, and
// `fault` makes every call fail the way a broken account does.
import { UpstreamError } from '../../server/src/errors';
import type { UpstreamAdapter } from '../../server/src/upstream/adapter';
import { CDN_BASE } from '../mocks/upstream';

export interface Call {
  at: number;
  kind: 'submit' | 'status' | 'act';
  id: string;
  /** For an action: the upstream id of the grid it was taken on. */
  gridId?: string;
}

export function fakeUpstream(durationMs: (n: number) => number, prefix = 'up') {
  const calls: Call[] = [];
  const jobs = new Map<string, { start: number; duration: number }>();
  const refusals: { retryAfterS: number }[] = [];
  /** `current` fails every call; `submissions` only submissions and actions. */
  const fault: { current: UpstreamError | undefined; submissions?: UpstreamError | undefined } = { current: undefined };
  let count = 0;
  const start = (kind: 'submit' | 'act', gridId?: string) => {
    const refusal = refusals.shift();
    const id = `${prefix}_${++count}`;
    calls.push({ at: Date.now(), kind, id, ...(gridId ? { gridId } : {}) });
    if (fault.current) throw fault.current;
    if (fault.submissions) throw fault.submissions;
    if (refusal) throw new UpstreamError('rate_limited', 'slow down', { retryAfterS: refusal.retryAfterS });
    jobs.set(id, { start: Date.now(), duration: durationMs(count) });
    return { id, status: 'pending' as const };
  };
  const adapter: UpstreamAdapter = {
    name: 'fake',
    imagineOutput: 'grid',
    gridActions: ['upscale', 'variation', 'reroll'],
    async submit() {
      return start('submit');
    },
    async act(input) {
      return start('act', input.gridId);
    },
    async getJob(id) {
      calls.push({ at: Date.now(), kind: 'status', id });
      if (fault.current) throw fault.current;
      const refusal = refusals.shift();
      if (refusal) throw new UpstreamError('rate_limited', 'slow down', { retryAfterS: refusal.retryAfterS });
      const job = jobs.get(id);
      if (!job) throw new UpstreamError('not_found', 'No such job');
      const share = (Date.now() - job.start) / job.duration;
      if (share >= 1) return { id, status: 'complete', progress: 100, imageUrl: `${CDN_BASE}/images/${id}.png` };
      return { id, status: 'processing', progress: Math.max(1, Math.round(share * 100)) };
    },
  };
  return { adapter, calls, refusals, fault, finishOf: (id: string) => jobs.get(id) };
}
