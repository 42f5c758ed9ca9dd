// An msw-mocked useapi.net Midjourney API v2: the Bearer token checked on every call, imagine
// and button presses answering `started`, each job then checked once at 45 % (with a preview)
// and finished on the next check with its grid and buttons; moderation, a full queue, and any
// refusal a test asks for with `refuseNext`.
import { HttpResponse, http } from 'msw';
import { server } from './node';

export const USEAPI = 'https://useapi.test';
export const USEAPI_TOKEN = 'user:1234-uA9f3kQ7x2LmZp8RtY5w';
export const USEAPI_CDN = 'https://cdn.discordapp.test/attachments';
/** The prompt word Midjourney refuses here. */
export const USEAPI_BANNED = 'forbidden';

const GRID_BUTTONS = ['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4'];
const UPSCALE_BUTTONS = [
  'Upscale (Subtle)',
  'Upscale (Creative)',
  'Vary (Subtle)',
  'Vary (Strong)',
  'Vary (Region)',
  'Zoom Out 2x',
  'Zoom Out 1.5x',
  'Custom Zoom',
  '⬅️',
  '➡️',
  '⬆️',
  '⬇️',
];
const FINAL = new Set(['completed', 'moderated', 'failed', 'cancelled']);

type Body = Record<string, unknown>;

interface FakeJob {
  jobid: string;
  verb: 'imagine' | 'button';
  prompt: string;
  channel: string;
  button?: string;
  parentJobId?: string;
  replyUrl?: string;
  children: { button: string; jobid: string; messageId: string }[];
  /** How many times GET has read it: the first check shows progress, the next the result. */
  checks: number;
}

/**
 * `maxJobs`: how many unfinished jobs the account runs at once before answering 429.
 * `answers`: bodies a test pins for GET /v2/jobs/?jobid= (they win over the progression).
 */
export function mockUseapiUpstream(options: { maxJobs?: number } = {}) {
  const maxJobs = options.maxJobs ?? 3;
  const sent: { path: string; headers: Headers; body: Body }[] = [];
  const jobs = new Map<string, FakeJob>();
  const answers = new Map<string, Body>();
  const refusals: { status: number; body: Body }[] = [];
  let next = 0;

  const refusal = (status: number, error: string, extra: Body = {}) =>
    HttpResponse.json({ error, ...extra, code: status }, { status });
  const authorized = (request: Request) => request.headers.get('authorization') === `Bearer ${USEAPI_TOKEN}`;

  const statusOf = (job: FakeJob) => {
    const pinned = answers.get(job.jobid)?.status;
    if (typeof pinned === 'string') return pinned;
    return job.checks === 0 ? 'started' : job.checks === 1 ? 'progress' : 'completed';
  };

  /** The job as GET shows it at its current check. */
  const view = (job: FakeJob): Body => {
    const status = statusOf(job);
    const upscale = job.button?.startsWith('U') === true;
    const common = {
      jobid: job.jobid,
      verb: job.verb,
      status,
      created: '2026-11-30T10:00:00.000Z',
      updated: '2026-11-30T10:00:30.000Z',
      prompt: job.prompt,
      channel: job.channel,
      server: '998877665544332211',
      maxJobs,
      messageId: `msg-${job.jobid.length}`,
      timestamp: '2026-11-30T10:00:01.000+00:00',
      ...(job.button ? { button: job.button, parentJobId: job.parentJobId } : {}),
      ...(job.replyUrl ? { replyUrl: job.replyUrl } : {}),
      code: 200,
    };
    const file = `${USEAPI_CDN}/${encodeURIComponent(job.jobid)}`;
    if (status === 'started') return { ...common, content: `**${job.prompt}** - Waiting to start` };
    if (status === 'progress') {
      return {
        ...common,
        content: `**${job.prompt}** - <@1234> (45%) (fast)`,
        attachments: [{ url: `${file}/preview.webp`, filename: 'preview.webp', width: 256, height: 256 }],
      };
    }
    return {
      ...common,
      content: `**${job.prompt}** - <@1234> (fast)`,
      attachments: [
        {
          url: `${file}/grid.png?ex=67a1&is=67a0&hm=abc`,
          proxy_url: `${file}/grid.png`,
          filename: 'grid.png',
          content_type: 'image/png',
          width: 2048,
          height: 2048,
          size: 7_654_321,
          id: '1199887766',
        },
      ],
      buttons: upscale ? UPSCALE_BUTTONS : GRID_BUTTONS,
      children: job.children,
    };
  };

  const running = () => [...jobs.values()].filter((job) => !FINAL.has(statusOf(job))).map((job) => job.jobid);

  /** A new job, answered as useapi.net answers an accepted imagine or button press. */
  const start = (job: Omit<FakeJob, 'jobid' | 'children' | 'checks'>) => {
    next += 1;
    const jobid = `job:20261130100000${String(next).padStart(3, '0')}-user:1234-channel:${job.channel}-bot:midjourney`;
    const made: FakeJob = { ...job, jobid, children: [], checks: 0 };
    jobs.set(jobid, made);
    return made;
  };

  /** What every call meets first: the token, a refusal the test queued, the account's queue. */
  const gate = (request: Request, starts: boolean): Response | undefined => {
    if (!authorized(request)) return refusal(401, 'Unauthorized');
    const queued = refusals.shift();
    if (queued) return HttpResponse.json({ ...queued.body, code: queued.status }, { status: queued.status });
    const busy = running();
    if (starts && busy.length >= maxJobs) {
      return refusal(429, `Account ${'1122334455667788990'} is busy executing ${busy.length} jobs`, {
        executingJobs: busy,
      });
    }
    return undefined;
  };

  server.use(
    http.post(`${USEAPI}/v2/jobs/imagine`, async ({ request }) => {
      const body = (await request.json()) as Body;
      sent.push({ path: 'imagine', headers: request.headers, body });
      const refused = gate(request, true);
      if (refused) return refused;
      if (typeof body.prompt !== 'string' || !body.prompt.trim())
        return refusal(400, 'Required param prompt is missing');
      if (body.prompt.includes(USEAPI_BANNED)) {
        return refusal(422, `Banned prompt word "${USEAPI_BANNED}"`, { jobid: 'job:moderated', status: 'moderated' });
      }
      const channel = typeof body.channel === 'string' ? body.channel : '1122334455667788990';
      const job = start({
        verb: 'imagine',
        prompt: body.prompt,
        channel,
        ...(typeof body.replyUrl === 'string' ? { replyUrl: body.replyUrl } : {}),
      });
      return HttpResponse.json(view(job));
    }),

    http.post(`${USEAPI}/v2/jobs/button`, async ({ request }) => {
      const body = (await request.json()) as Body;
      sent.push({ path: 'button', headers: request.headers, body });
      const refused = gate(request, true);
      if (refused) return refused;
      const { jobid, button } = body;
      if (typeof jobid !== 'string' || typeof button !== 'string') return refusal(412, 'jobid or button is missing');
      const parent = jobs.get(jobid);
      if (!parent) return refusal(404, `Unable to locate job ${jobid}`);
      const shown = view(parent);
      if (shown.status !== 'completed' || !(shown.buttons as string[]).includes(button)) {
        return refusal(400, `Button ${button} not supported or not found in jobid buttons array`);
      }
      const earlier = parent.children.find((child) => child.button === button);
      if (earlier && button.startsWith('U')) {
        return refusal(409, `Button ${button} already executed by job ${earlier.jobid}`, {
          button,
          jobid: earlier.jobid,
        });
      }
      const job = start({
        verb: 'button',
        prompt: parent.prompt,
        channel: parent.channel,
        button,
        parentJobId: parent.jobid,
        ...(typeof body.replyUrl === 'string' ? { replyUrl: body.replyUrl } : {}),
      });
      parent.children.push({ button, jobid: job.jobid, messageId: `msg-${next}` });
      return HttpResponse.json({
        jobid: job.jobid,
        verb: 'button',
        status: 'started',
        created: '2026-11-30T10:01:00.000Z',
        updated: '2026-11-30T10:01:00.000Z',
        button,
        parentJobId: parent.jobid,
        channel: parent.channel,
        server: '998877665544332211',
        maxJobs,
        code: 200,
      });
    }),

    http.get(`${USEAPI}/v2/jobs/`, ({ request }) => {
      const refused = gate(request, false);
      if (refused) return refused;
      const jobid = new URL(request.url).searchParams.get('jobid');
      if (!jobid) return refusal(400, 'Query param jobid not provided');
      const pinned = answers.get(jobid);
      const job = jobs.get(jobid);
      if (pinned && !job) return HttpResponse.json(pinned);
      if (!job) return refusal(404, `Unable to locate job ${jobid}`);
      job.checks += 1;
      return HttpResponse.json({ ...view(job), ...pinned });
    }),
  );

  return {
    sent,
    jobs,
    answers,
    /** The next call (after the token check) is refused with this status and body. */
    refuseNext(status: number, body: Body = {}) {
      refusals.push({ status, body });
    },
  };
}
