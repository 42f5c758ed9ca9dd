// How a stored job looks to its owner: our id, our statuses, our image URL. The upstream's
// id and link stay on the server.
import type { GridAction, Job } from '@shared/schemas/job';
import { isActive, type JobRecord } from '../store/job-store';

/** `actions`: what the upstream can do with this job if it is a finished grid. */
export function toJobView(job: JobRecord, actions: readonly GridAction[] = []): Job {
  const view: Job = {
    job_id: job.id,
    status: job.status === 'submitting' ? 'pending' : job.status,
    prompt: job.prompt,
    aspect_ratio: job.aspectRatio,
    quality: job.quality,
    created_at: new Date(job.createdAt).toISOString(),
  };
  if (job.progress !== null) view.progress = Math.round(job.progress);
  if (job.finishedAt !== null) view.finished_at = new Date(job.finishedAt).toISOString();
  if (job.status === 'complete' && job.imageFile) {
    view.image_url = `/api/images/${job.imageFile}`;
    view.download_name = downloadName(job.prompt, job.imageFile);
  }
  if (job.error && job.status !== 'complete') view.error = job.error;
  if (job.parentId) view.parent_id = job.parentId;
  if (job.action) view.action = job.action;
  if (job.actionIndex !== null) view.action_index = job.actionIndex;
  if (actions.length > 0) view.available_actions = [...actions];
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
