// How a stored job looks to its owner: our id, our statuses, our image URL, and when asking
// again is worthwhile. The upstream's id and links stay on the server.
import { type Job, POLL_MAX_MS, POLL_MIN_MS } from '@shared/schemas/job';
import type { JobService } from '../jobs/job-service';
import type { Scheduling } from '../jobs/scheduling';
import type { UploadService } from '../jobs/upload-service';
import { isActive, type JobRecord } from '../store/job-store';

/** With webhooks, news can come at any moment: browsers ask at least this often (a store read). */
const PUSHED_POLL_MS = 2_000;

export type JobPresenter = (job: JobRecord) => Job;

/** The job as its owner sees it, with its actions, queue position and a hint for the next poll. */
export function jobPresenter(
  jobs: JobService,
  scheduler: Scheduling,
  uploads: UploadService,
  now: () => number,
): JobPresenter {
  // A finished job never changes, and the store hands out the same record for it while it
  // stays in its cache: the view of such a record is made once (polls ask for it again and again).
  const finished = new WeakMap<JobRecord, Job>();
  return (job) => {
    const made = finished.get(job);
    if (made) return made;
    const view = toJobView(job, jobs.costOf(job));
    const references = job.refs.flatMap((ref) => {
      const url = uploads.viewUrl(ref);
      if (!url) return [];
      return [{ role: ref.role, url, ...('uploadId' in ref ? { upload_id: ref.uploadId } : { job_id: ref.jobId }) }];
    });
    if (references.length > 0) view.references = references;
    const actions = jobs.actionsFor(job);
    if (actions.length > 0) view.available_actions = actions;
    if (!isActive(job.status)) {
      // Only the store's own (frozen, cached) records come back again; a list's rows are new
      // objects each time, and remembering views of them would only feed the collector.
      if (Object.isFrozen(job)) finished.set(job, Object.freeze(view));
      return view;
    }
    const position = scheduler.queuePosition(job.id);
    if (position !== undefined) view.queue_position = position;
    const next = scheduler.nextUpdateAt(job.id);
    const wait = next === undefined ? POLL_MIN_MS * 2 : next - now() + 300;
    const longest = scheduler.pushed && position === undefined ? PUSHED_POLL_MS : POLL_MAX_MS;
    view.poll_after_ms = Math.round(Math.min(longest, Math.max(POLL_MIN_MS, wait)));
    return view;
  };
}

function toJobView(job: JobRecord, cost: number): Job {
  const view: Job = {
    job_id: job.id,
    status: job.status === 'submitting' ? 'pending' : job.status,
    kind: job.kind,
    output: job.output,
    favourite: job.favourite,
    prompt: job.prompt,
    params: job.params,
    cost,
    aspect_ratio: job.aspectRatio,
    quality: job.quality,
    created_at: new Date(job.createdAt).toISOString(),
  };
  if (job.progress !== null) view.progress = Math.round(job.progress);
  if (job.imageUrls.length > 0) view.image_urls = job.imageUrls;
  if (job.finalPrompt) view.final_prompt = job.finalPrompt;
  if (job.descriptions) view.descriptions = job.descriptions;
  if (job.finishedAt !== null) view.finished_at = new Date(job.finishedAt).toISOString();
  if (job.status === 'complete' && job.imageFile) {
    view.image_url = `/api/images/${job.imageFile}`;
    view.download_name = downloadName(job.prompt, job.imageFile);
  }
  if (job.status === 'complete' && job.videoFile) {
    view.video_url = `/api/videos/${job.videoFile}`;
    view.video_download_name = downloadName(job.prompt, job.videoFile);
  }
  if (job.error && job.status !== 'complete') view.error = job.error;
  if (job.parentId) view.parent_id = job.parentId;
  if (job.action) view.action = job.action;
  if (job.actionIndex !== null) view.action_index = job.actionIndex;
  if (job.actionInput?.zoom !== undefined) view.action_zoom = job.actionInput.zoom;
  // Our own URL for the upstream's preview; the progress in it makes each new one a new URL.
  if (job.previewUrl && isActive(job.status)) {
    view.preview_url = `/api/jobs/${job.id}/preview?at=${Math.round(job.progress ?? 0)}`;
  }
  return view;
}

/** A readable file name from the prompt: "a-lighthouse-at-dusk.png". */
export function downloadName(prompt: string, imageFile: string): string {
  const ext = imageFile.slice(imageFile.lastIndexOf('.'));
  const slug = prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `${slug || 'mj-studio-image'}${ext}`;
}
