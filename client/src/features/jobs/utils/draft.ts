// A job turned back into what the prompt box holds ("Use again", "Try again"): the request as
// the contract takes it in, its parameters written into the text, and its images for the tray.

import type { ImagineRequestInput } from '@shared/schemas/imagine';
import type { Job } from '@shared/schemas/job';
import type { Contract } from '@/lib/api-client';
import { referencesOf, type TrayImage } from './tray-image';

export interface Draft {
  /** Its parameters are written into its prompt (the box's one state); its images are named as sent. */
  request: ImagineRequestInput;
  images: TrayImage[];
}

export function draftOf(job: Job, printPrompt: Contract['printPrompt']): Draft {
  const images = (job.references ?? []).flatMap((reference, index): TrayImage[] => {
    const ref = reference.upload_id
      ? { upload_id: reference.upload_id }
      : reference.job_id
        ? { job_id: reference.job_id }
        : undefined;
    if (!ref) return [];
    return [{ key: `${job.job_id}-${index}`, role: reference.role, ref, url: reference.url, name: job.prompt }];
  });
  const prompt = printPrompt({ text: job.prompt, imageUrls: job.image_urls ?? [], params: job.params });
  return { request: { prompt, ...referencesOf(images) }, images };
}

/** A prompt alone (a describe job's candidate), as a draft. */
export const draftOfPrompt = (prompt: string): Draft => ({ request: { prompt }, images: [] });
