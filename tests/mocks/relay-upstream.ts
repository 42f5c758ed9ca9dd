// An msw-mocked midjourney-proxy relay for the studio to speak to, behind our own relay face:
// a finished grid with U/V buttons for an imagine, V7's buttons on an upscale, Inpaint asking
// for its modal; every task finished at once unless a test sets it otherwise in `tasks`.
import { HttpResponse, http } from 'msw';
import { server } from './node';
import { CDN_BASE } from './upstream';

export const RELAY = 'https://relay.test/mj';

/** The upstream relay: grids with U/V/🔄, upscales with V7's buttons; Inpaint asks for its modal. */
export function mockRelayUpstream() {
  const sent: { path: string; body: Record<string, unknown> }[] = [];
  const tasks = new Map<string, Record<string, unknown>>();
  let next = 0;
  const accept = (action: string) => {
    next += 1;
    const id = `up-${next}`;
    const buttons =
      action === 'UPSCALE'
        ? [
            { customId: `MJ::JOB::upsample_v7_2x_subtle::1::${id}::SOLO`, label: 'Upscale (Subtle)' },
            { customId: `MJ::Inpaint::1::${id}::SOLO`, label: 'Vary (Region)' },
          ]
        : [
            ...[1, 2, 3, 4].flatMap((n) => [
              { customId: `MJ::JOB::upsample::${n}::${id}`, label: `U${n}` },
              { customId: `MJ::JOB::variation::${n}::${id}`, label: `V${n}` },
            ]),
            { customId: `MJ::JOB::reroll::0::${id}::SOLO`, label: '', emoji: '🔄' },
          ];
    tasks.set(id, {
      id,
      action,
      status: 'SUCCESS',
      progress: '100%',
      imageUrl: `${CDN_BASE}/images/${id}.png`,
      buttons,
      properties: { finalPrompt: `final ${id}` },
    });
    return HttpResponse.json({ code: 1, description: 'ok', result: id });
  };
  server.use(
    http.post(`${RELAY}/submit/imagine`, async ({ request: incoming }) => {
      const body = (await incoming.json()) as Record<string, unknown>;
      sent.push({ path: 'imagine', body });
      if (String(body.prompt).includes('forbidden')) {
        return HttpResponse.json({ code: 24, description: 'Banned', properties: { bannedWord: 'forbidden' } });
      }
      return accept('IMAGINE');
    }),
    http.post(`${RELAY}/submit/change`, async ({ request: incoming }) => {
      sent.push({ path: 'change', body: (await incoming.json()) as Record<string, unknown> });
      return accept('UPSCALE');
    }),
    http.post(`${RELAY}/submit/action`, async ({ request: incoming }) => {
      const body = (await incoming.json()) as Record<string, unknown>;
      sent.push({ path: 'action', body });
      if (String(body.customId).startsWith('MJ::Inpaint')) {
        return HttpResponse.json({ code: 21, description: 'modal', result: 'modal-1' });
      }
      return accept(String(body.customId).includes('upsample::') ? 'UPSCALE' : 'VARIATION');
    }),
    http.post(`${RELAY}/submit/modal`, async ({ request: incoming }) => {
      sent.push({ path: 'modal', body: (await incoming.json()) as Record<string, unknown> });
      return accept('INPAINT');
    }),
    http.post(`${RELAY}/submit/describe`, async ({ request: incoming }) => {
      sent.push({ path: 'describe', body: (await incoming.json()) as Record<string, unknown> });
      next += 1;
      const id = `up-${next}`;
      tasks.set(id, {
        id,
        action: 'DESCRIBE',
        status: 'SUCCESS',
        progress: '100%',
        imageUrl: '',
        promptEn:
          '1\uFE0F\u20E3 a red fox\n\n2\uFE0F\u20E3 a fox in snow\n\n3\uFE0F\u20E3 an orange animal\n\n4\uFE0F\u20E3 a wild fox',
      });
      return HttpResponse.json({ code: 1, description: 'ok', result: id });
    }),
    http.post(`${RELAY}/submit/blend`, async ({ request: incoming }) => {
      sent.push({ path: 'blend', body: (await incoming.json()) as Record<string, unknown> });
      return accept('BLEND');
    }),
    http.post(`${RELAY}/task/:id/cancel`, () => HttpResponse.json({ code: 1, description: 'ok', result: null })),
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) => HttpResponse.json(tasks.get(String(params.id)) ?? {})),
  );
  return { sent, tasks };
}
