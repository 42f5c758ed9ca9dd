// The interface every upstream contract (v7 REST, midjourney-proxy, the simulator speaking
// either) is reached through. The job service only ever sees this; each adapter owns all of
// its protocol, the bodies of its webhooks included.
import type { JobAction } from '@shared/schemas/job';
import type { PromptParams } from '@shared/schemas/params-values';
import type { BlendShape, ReferenceRole } from '@shared/schemas/upload';

export type UpstreamStatus = 'pending' | 'processing' | 'complete' | 'failed' | 'cancelled';

/** An image of ours a job uses: its bytes on demand, and a link the upstream can fetch where we have one. */
export interface ImageInput {
  role: ReferenceRole;
  /** A signed, expiring link to our copy, when this server has an address the upstream reaches. */
  url?: string | undefined;
  load(): Promise<{ body: Buffer; contentType: string }>;
}

export interface SubmitInput {
  /** The prompt's text, without parameters. */
  text: string;
  /** Checked against the shared table; the adapter writes them the way its protocol wants. */
  params: PromptParams;
  /** Image links written in front of the prompt (the user's own, passed as written). */
  imageUrls: string[];
  images: ImageInput[];
}

export interface UpstreamJob {
  id: string;
  status: UpstreamStatus;
  progress?: number;
  imageUrl?: string;
  /** A low-resolution preview some upstreams show while the job runs. */
  previewUrl?: string;
  error?: string;
  /** The whole prompt as the upstream ran it (a relay's properties.finalPrompt). */
  finalPrompt?: string;
  /** A finished describe job's candidate prompts. */
  descriptions?: string[];
  /** A finished video job's clip (imageUrl is then its first frame, where the upstream gives one). */
  videoUrl?: string;
  /**
   * On a finished job: what the upstream offers to do next (a relay's buttons), in our names.
   * Undefined where the upstream says nothing about it.
   */
  offers?: UpstreamOffer[];
}

/** An action the upstream offers on one job; `customId` is what it wants back to take it. */
export interface UpstreamOffer {
  action: JobAction;
  index?: number | undefined;
  customId?: string | undefined;
}

/** An action on a finished job the upstream made. */
export interface ActionInput {
  /** The upstream's id of the finished job. */
  gridId: string;
  action: JobAction;
  /** 1-4 for the actions on one of a grid's images. */
  index?: number | undefined;
  /** The offer's own id (a relay button's customId), where the upstream gave one. */
  customId?: string | undefined;
  /** The job's whole prompt, for a relay that asks for it (a modal); sent only then. */
  prompt?: string | undefined;
  /** The prompt is a new one (Remix): the action must go where a prompt can be given. */
  remix?: boolean | undefined;
  /** Custom Zoom's factor. */
  zoom?: number | undefined;
  /** Vary (Region)'s mask: a PNG, white where the image is repainted. */
  mask?: { load(): Promise<Buffer> } | undefined;
}

/**
 * What a webhook body says, read by the adapter whose protocol it is. `report`: the
 * upstream's own (signed) word on a job, to apply as it stands. `hint`: an unverifiable
 * notice that a job changed (`final`: it may have ended), worth only a fresh status check.
 */
export type WebhookNotice = { kind: 'report'; job: UpstreamJob } | { kind: 'hint'; upstreamId: string; final: boolean };

export interface UpstreamAdapter {
  /** A short label for logs and /healthz, e.g. "v7" or "simulator". */
  readonly name: string;
  submit(input: SubmitInput): Promise<{ id: string; status: UpstreamStatus }>;
  getJob(id: string): Promise<UpstreamJob>;
  /** Present only where the upstream can cancel a running job. */
  cancel?(id: string): Promise<void>;
  /**
   * What an imagine makes here: a grid of four (relays) or one image (the v7 contract).
   * Absent: one image.
   */
  readonly imagineOutput?: 'grid' | 'image';
  /**
   * The actions this upstream offers on a finished grid when a job's report names none (an
   * older relay without buttons). Absent: only what each report offers.
   */
  readonly gridActions?: readonly JobAction[];
  /** Takes an action the upstream offered; absent where the upstream takes none. */
  act?(input: ActionInput): Promise<{ id: string; status: UpstreamStatus }>;
  /**
   * The image roles this upstream takes as bytes in the request (a relay's base64Array);
   * for the others it needs a link it can fetch. Absent: links only.
   */
  readonly inlineRoles?: readonly ReferenceRole[];
  /** Four candidate prompts for an image, where the upstream can describe. */
  describe?(image: ImageInput): Promise<{ id: string; status: UpstreamStatus }>;
  /** A grid blending 2 to 5 images, where the upstream can blend. */
  blend?(images: ImageInput[], shape: BlendShape): Promise<{ id: string; status: UpstreamStatus }>;
  /**
   * Reads the body of a webhook this upstream sent (its authenticity is checked before, by
   * the route). Undefined for a body that names no job; throws UpstreamError('bad_response')
   * for one that claims to be a report but is malformed. Absent where the upstream sends none.
   */
  parseWebhook?(body: Buffer): WebhookNotice | undefined;
}
