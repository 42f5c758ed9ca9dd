// How a stored job looks to its owner: our id, our statuses, our image URL. The upstream's
// id and link stay on the server.
import type { Job } from '../../../shared/schemas/job';
import type { JobRecord } from '../store/job-store';

export function toJobView(job: JobRecord): Job {
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
