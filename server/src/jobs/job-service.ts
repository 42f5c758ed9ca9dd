// Owns the life of a job: recorded before the upstream is called, confirmed after it answers,
// refreshed from the upstream until it ends, its image downloaded and kept. Routes, the
// scheduler and the webhook intake call this; only this talks to the store, the image files
// and the upstream. It speaks in domain errors (errors.ts), never in HTTP.
import { randomBytes } from 'node:crypto';
import type { ImagineRequest } from '@shared/schemas/imagine';
import type { GridAction, GridActionRequest } from '@shared/schemas/job';
import { paramCost } from '@shared/schemas/prompt-params';
import type { BlendRequest, BlendShape, DescribeRequest, ImageReference, ReferenceRole } from '@shared/schemas/upload';
import type { Logger } from 'pino';
import { DomainError, UpstreamError } from '../errors';
import { contentTypeFor, type ImageFiles } from '../store/image-files';
import { isActive, type JobPatch, type JobRecord, type JobStore } from '../store/job-store';
import type { UpstreamAdapter, UpstreamJob } from '../upstream/adapter';
import type { FetchedImage, ImageFetcher } from '../upstream/image-fetcher';
import type { UploadService } from './upload-service';

export interface JobServiceDeps {
  store: JobStore;
  images: ImageFiles;
  upstream: UpstreamAdapter;
  fetcher: ImageFetcher;
  uploads: UploadService;
  logger: Logger;
  /** A job still unfinished this long after submission is given up as failed. */
  deadlineMs: number;
  now?: () => number;
}

// Refusals the upstream answered definitively: it did not take the job, so no record is kept.
const NOT_ACCEPTED = new Set(['refused', 'rejected', 'rate_limited', 'auth']);

/** The preview cache keeps at most this many previews, and at most this many bytes of them. */
const PREVIEW_CACHE_SIZE = 64;
const PREVIEW_CACHE_BYTES = 32 * 1024 * 1024;

interface CachedPreview {
  url: string;
  image: Promise<FetchedImage>;
  /** Counted once the download has arrived. */
  bytes: number;
}

/** A random id that never holds `--`: a job's image name travels in links inside prompts. */
export function newJobId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.includes('--')) return id;
  }
}

const costOf = (params: ImagineRequest['params'], omniRef: boolean): number => paramCost(params) * (omniRef ? 2 : 1);

/** What a submission will cost, before it is recorded. */
export const costOfRequest = (input: ImagineRequest): number => costOf(input.params, input.omni_ref !== undefined);

/**
 * A relay echoes the prompt it ran, our signed image links included: those open an image
 * to anyone for a day, so the job keeps them without their signature.
 */
const unsigned = (prompt: string): string => prompt.replace(/(\/media\/(?:uploads|images)\/[^\s?]+)\?\S*/g, '$1');

/** A blend's shape as its aspect ratio, Midjourney's way (and back). */
const BLEND_RATIOS: Record<BlendShape, string> = { portrait: '2:3', square: '1:1', landscape: '3:2' };
const blendShapeOf = (ratio: string): BlendShape =>
  ratio === '2:3' ? 'portrait' : ratio === '3:2' ? 'landscape' : 'square';

export class JobService {
  readonly upstreamName: string;
  /** The grid actions the upstream can take; empty when it has none. */
  readonly actions: readonly GridAction[];
  readonly #deps: JobServiceDeps;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<JobRecord | undefined>>();
  readonly #downloading = new Set<string>();
  /** The last preview fetched per job, so many watchers of one job cost one download. */
  readonly #previews = new Map<string, CachedPreview>();
  #previewBytes = 0;

  constructor(deps: JobServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.upstreamName = deps.upstream.name;
    this.actions = typeof deps.upstream.act === 'function' ? (deps.upstream.actions ?? []) : [];
  }

  /** Records a new job before anything is sent anywhere, so that no crash can lose it. */
  record(ownerId: string, input: ImagineRequest): JobRecord {
    const named: { role: ReferenceRole; ref: ImageReference }[] = [
      ...input.image_prompts.map((ref) => ({ role: 'image' as const, ref })),
      ...input.style_refs.map((ref) => ({ role: 'style' as const, ref })),
      ...(input.omni_ref ? [{ role: 'omni' as const, ref: input.omni_ref }] : []),
    ];
    const refs = this.#deps.uploads.check(ownerId, named, this.#deps.upstream.inlineRoles ?? []);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'imagine',
      prompt: input.text,
      params: input.params,
      imageUrls: input.imageUrls,
      refs,
      aspectRatio: input.params.aspect_ratio ?? '1:1',
      createdAt: this.#now(),
    });
  }

  /** What a job costs against the client's limits, relative to a standard job (omni references cost 2x). */
  costOf(job: JobRecord): number {
    return costOf(
      job.params,
      job.refs.some((ref) => ref.role === 'omni'),
    );
  }

  /** Records a request for four candidate prompts of one of the owner's images. */
  recordDescribe(ownerId: string, request: DescribeRequest): JobRecord {
    if (!this.#deps.upstream.describe) {
      throw new DomainError('conflict', `The upstream in use (${this.upstreamName}) cannot describe images`);
    }
    const refs = this.#deps.uploads.check(ownerId, [{ role: 'image', ref: request.image }], ['image']);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'describe',
      prompt: 'Describe this image',
      params: {},
      refs,
      aspectRatio: '1:1',
      createdAt: this.#now(),
    });
  }

  /** Records a blend of 2 to 5 of the owner's images into one grid, in the shape asked. */
  recordBlend(ownerId: string, request: BlendRequest): JobRecord {
    if (!this.#deps.upstream.blend) {
      throw new DomainError('conflict', `The upstream in use (${this.upstreamName}) cannot blend images`);
    }
    const named = request.images.map((ref) => ({ role: 'image' as const, ref }));
    const refs = this.#deps.uploads.check(ownerId, named, ['image']);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'blend',
      prompt: `Blend of ${refs.length} images`,
      params: {},
      refs,
      aspectRatio: BLEND_RATIOS[request.shape],
      createdAt: this.#now(),
    });
  }

  /** The actions a finished job offers: a grid (not an upscale) the upstream knows. */
  actionsFor(job: JobRecord): readonly GridAction[] {
    if (job.status !== 'complete' || !job.upstreamId || job.action === 'upscale' || job.kind === 'describe') return [];
    return this.actions;
  }

  /**
   * Records a grid action on one of the owner's finished grids as a new job linked to it,
   * to be sent like a submission. The grid's prompt and format carry over.
   */
  recordAction(ownerId: string, gridId: string, request: GridActionRequest): JobRecord {
    const grid = this.get(ownerId, gridId);
    if (!this.actions.includes(request.action)) {
      throw new DomainError(
        'conflict',
        this.actions.length === 0
          ? `The upstream in use (${this.upstreamName}) has no grid actions`
          : `The upstream in use (${this.upstreamName}) cannot ${request.action}`,
      );
    }
    if (grid.status !== 'complete' || !grid.upstreamId) {
      throw new DomainError('conflict', 'Grid actions need a finished grid; this job is not complete');
    }
    if (grid.action === 'upscale') {
      throw new DomainError('conflict', 'This is an upscaled single image, not a grid of four');
    }
    if (grid.kind === 'describe') throw new DomainError('conflict', 'A describe job has no grid to act on');
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'action',
      prompt: grid.prompt,
      params: grid.params,
      imageUrls: grid.imageUrls,
      refs: grid.refs,
      aspectRatio: grid.aspectRatio,
      createdAt: this.#now(),
      parentId: grid.id,
      action: request.action,
      actionIndex: 'index' in request ? request.index : null,
    });
  }

  /**
   * Sends a recorded job upstream while its submitter waits for the answer (an HTTP request):
   * a definitive refusal removes the record and is thrown to them, as if it never existed.
   */
  sendNow(id: string): Promise<JobRecord | undefined> {
    return this.#send(id, () => this.#deps.store.delete(id));
  }

  /**
   * Sends a job that waited in the queue: nobody waits for the answer, so a refusal stays
   * visible on the job, and an upstream 429 puts it back to `queued` and is thrown so the
   * caller can retry later.
   */
  sendQueued(id: string): Promise<JobRecord | undefined> {
    return this.#send(id, (error) => {
      if (error.kind === 'rate_limited') this.#deps.store.updateActive(id, { status: 'queued' }, this.#now());
      else this.#finish(id, { status: 'failed', error: error.message });
    });
  }

  /** `refused`: what to do with the record when the upstream definitively did not take the job. */
  async #send(id: string, refused: (error: UpstreamError) => void): Promise<JobRecord | undefined> {
    const { store, upstream } = this.#deps;
    const job = store.updateActive(id, { status: 'submitting' }, this.#now());
    if (!job) return store.get(id);
    let answer: Awaited<ReturnType<UpstreamAdapter['submit']>>;
    try {
      answer = await this.#submit(job);
    } catch (error) {
      if (error instanceof UpstreamError && NOT_ACCEPTED.has(error.kind)) {
        refused(error);
      } else {
        this.#finish(id, {
          status: 'failed',
          error: `The upstream never confirmed this submission (${describe(error)}); it may or may not have run there`,
        });
      }
      throw error;
    }
    const status = answer.status === 'processing' ? 'processing' : 'pending';
    const now = this.#now();
    const confirmed = store.updateActive(id, { upstreamId: answer.id, status, checkedAt: now }, now);
    this.#deps.logger.info({ job_id: id, upstream: upstream.name }, 'job submitted');
    return confirmed ?? store.get(id);
  }

  async #submit(job: JobRecord): ReturnType<UpstreamAdapter['submit']> {
    const { upstream } = this.#deps;
    if (job.action) return this.#act(job);
    let images: ReturnType<UploadService['inputs']>;
    try {
      images = this.#deps.uploads.inputs(job.ownerId, job.refs);
    } catch (error) {
      // Deleted (or no longer finished) between the submission and its turn in the queue.
      const reason = error instanceof DomainError ? error.message : 'an image it uses is gone';
      throw new UpstreamError('rejected', `An image this job uses is gone (${reason}); it was not sent`);
    }
    // Recorded where the upstream could; one configured since (a restart) may not.
    const cannot = (what: string) =>
      new UpstreamError('rejected', `The upstream in use (${upstream.name}) cannot ${what} images`);
    if (job.kind === 'describe') {
      if (!upstream.describe || !images[0]) throw cannot('describe');
      return upstream.describe(images[0]);
    }
    if (job.kind === 'blend') {
      if (!upstream.blend) throw cannot('blend');
      return upstream.blend(images, blendShapeOf(job.aspectRatio));
    }
    return upstream.submit({ text: job.prompt, params: job.params, imageUrls: job.imageUrls, images });
  }

  /** An action sends no images: it names the grid it was taken on. */
  #act(job: JobRecord): ReturnType<UpstreamAdapter['submit']> {
    const { store, upstream } = this.#deps;
    const gridId = job.parentId ? store.get(job.parentId)?.upstreamId : undefined;
    if (!gridId || !upstream.act || !job.action) {
      throw new UpstreamError('rejected', 'The grid this action was taken on is gone (deleted) or cannot take actions');
    }
    return upstream.act({ gridId, action: job.action, index: job.actionIndex ?? undefined });
  }

  /** Whether the job has outlived the deadline (the next refresh gives it up without asking). */
  isOverdue(job: JobRecord): boolean {
    return this.#now() - job.createdAt > this.#deps.deadlineMs;
  }

  /** The job if it exists and belongs to this owner; anyone else gets the same "not found". */
  get(ownerId: string, id: string): JobRecord {
    const job = this.#deps.store.get(id);
    if (!job || job.ownerId !== ownerId) throw new DomainError('not_found', 'No such job');
    return job;
  }

  /** Any owner's job, for the server's own bookkeeping (the scheduler); never for a request. */
  find(id: string): JobRecord | undefined {
    return this.#deps.store.get(id);
  }

  /** Every job not yet finished, oldest first. */
  listActive(): JobRecord[] {
    return this.#deps.store.listActive();
  }

  /** How many of this owner's jobs are still running, queued ones included. */
  runningCount(ownerId: string): number {
    return this.#deps.store.countActiveByOwner(ownerId);
  }

  /** Forgets a job that was recorded but never sent (the queue had no room for it). */
  discard(id: string): void {
    const job = this.#deps.store.get(id);
    if (job?.status === 'queued') this.#deps.store.delete(id);
  }

  /** Our job for the upstream's id, for a webhook that names only the latter. */
  findByUpstreamId(upstreamId: string): JobRecord | undefined {
    return this.#deps.store.getByUpstreamId(upstreamId);
  }

  /** Whether a webhook delivery id was already dealt with (applied, or refused for good). */
  hasDelivery(deliveryId: string): boolean {
    return this.#deps.store.hasDelivery(deliveryId);
  }

  /** Records a webhook delivery id once it is dealt with; false when it was seen before. */
  rememberDelivery(deliveryId: string): boolean {
    return this.#deps.store.rememberDelivery(deliveryId, this.#now());
  }

  list(ownerId: string, options: { limit: number; cursor?: string | undefined }) {
    return this.#deps.store.listByOwner(ownerId, options);
  }

  async cancel(ownerId: string, id: string): Promise<JobRecord> {
    const job = this.get(ownerId, id);
    if (!isActive(job.status)) throw new DomainError('conflict', `The job is already ${job.status}`);
    const cancelled = this.#finish(id, { status: 'cancelled', error: 'Cancelled' });
    if (job.upstreamId) this.#cancelUpstream(job.upstreamId);
    return cancelled ?? this.#mustGet(id);
  }

  async remove(ownerId: string, id: string): Promise<void> {
    const job = this.get(ownerId, id);
    this.#deps.store.delete(id);
    if (job.imageFile) await this.#deps.images.remove(job.imageFile);
    if (isActive(job.status) && job.upstreamId) this.#cancelUpstream(job.upstreamId);
  }

  /** A kept image of one of this owner's jobs: where its file is and what it is. */
  keptImage(ownerId: string, name: string): { file: string; contentType: string; job: JobRecord } {
    const job = this.get(ownerId, name.slice(0, name.lastIndexOf('.')));
    if (job.imageFile !== name) throw new DomainError('not_found', 'No such image');
    return { file: this.#deps.images.pathOf(name), contentType: contentTypeFor(name), job };
  }

  /** The upstream's current preview of a running job, or undefined when it has none. */
  async preview(ownerId: string, id: string): Promise<FetchedImage | undefined> {
    const job = this.get(ownerId, id);
    if (!job.previewUrl || !isActive(job.status)) return undefined;
    const cached = this.#previews.get(id);
    if (cached?.url === job.previewUrl) return cached.image;
    const image = this.#deps.fetcher.fetch(job.previewUrl);
    const entry: CachedPreview = { url: job.previewUrl, image, bytes: 0 };
    this.#forgetPreview(id);
    this.#previews.set(id, entry);
    this.#trimPreviews();
    image.then(
      (fetched) => {
        if (this.#previews.get(id) !== entry) return;
        entry.bytes = fetched.body.byteLength;
        this.#previewBytes += entry.bytes;
        this.#trimPreviews();
      },
      () => {
        if (this.#previews.get(id) === entry) this.#forgetPreview(id);
      },
    );
    return image;
  }

  #forgetPreview(id: string): void {
    const cached = this.#previews.get(id);
    if (!cached) return;
    this.#previewBytes -= cached.bytes;
    this.#previews.delete(id);
  }

  /** Oldest first, until the cache is within both bounds. */
  #trimPreviews(): void {
    for (const id of this.#previews.keys()) {
      if (this.#previews.size <= PREVIEW_CACHE_SIZE && this.#previewBytes <= PREVIEW_CACHE_BYTES) return;
      this.#forgetPreview(id);
    }
  }

  /** Asks the upstream about one job, once at a time per job however many callers ask. */
  refresh(id: string): Promise<JobRecord | undefined> {
    const running = this.#inFlight.get(id);
    if (running) return running;
    const work = this.#refresh(id).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, work);
    return work;
  }

  /**
   * Stops tracking a running job that cannot be followed any more (the upstream keeps
   * answering about it in a way we cannot read): it fails with `reason`, without asking the
   * upstream again. A job that has already ended stays as it is.
   */
  giveUp(id: string, reason: string): JobRecord | undefined {
    const job = this.#deps.store.get(id);
    if (!job || !isActive(job.status)) return job;
    this.#deps.logger.warn({ job_id: id, reason }, 'job given up');
    return this.#finish(id, { status: 'failed', error: reason });
  }

  /** At start-up: a submission the upstream never answered cannot be resumed; say so. */
  recoverInterrupted(): number {
    let count = 0;
    for (const job of this.#deps.store.listActive()) {
      if (job.status !== 'submitting') continue;
      this.#finish(job.id, {
        status: 'failed',
        error: 'The server stopped before the upstream confirmed this submission, so it was not tracked; try again',
      });
      count += 1;
    }
    return count;
  }

  async #refresh(id: string): Promise<JobRecord | undefined> {
    const { store, upstream } = this.#deps;
    const job = store.get(id);
    if (!job || !isActive(job.status) || !job.upstreamId) return job;
    if (this.isOverdue(job)) {
      const minutes = Math.round(this.#deps.deadlineMs / 60_000);
      return this.#finish(id, {
        status: 'failed',
        error: `No result after ${minutes} min: the upstream job seems stuck, so it was given up`,
      });
    }
    let answer: Awaited<ReturnType<UpstreamAdapter['getJob']>>;
    try {
      answer = await upstream.getJob(job.upstreamId);
    } catch (error) {
      if (error instanceof UpstreamError && error.kind === 'not_found') {
        return this.#finish(id, { status: 'failed', error: 'The upstream no longer knows this job' });
      }
      store.updateActive(id, { checkedAt: this.#now() }, this.#now());
      throw error;
    }
    return this.applyUpstream(id, answer);
  }

  /**
   * Applies what the upstream says about a job, from a status check or a webhook. Order-safe:
   * a late or repeated report never moves a job backwards (progress only rises, a running
   * job never returns to pending) and a finished job never changes again.
   */
  async applyUpstream(id: string, answer: UpstreamJob): Promise<JobRecord | undefined> {
    const { store, logger } = this.#deps;
    const job = store.get(id);
    if (!job || !isActive(job.status)) return job;
    switch (answer.status) {
      case 'pending':
      case 'processing': {
        const status = job.status === 'processing' ? 'processing' : answer.status;
        const progress = Math.max(job.progress ?? 0, answer.progress ?? 0);
        // A late report's preview is older than the one we have: keep ours.
        const newest = (answer.progress ?? 0) >= (job.progress ?? 0);
        return store.updateActive(
          id,
          {
            status,
            progress: status === 'processing' || progress > 0 ? progress : null,
            checkedAt: this.#now(),
            previewUrl: newest ? answer.previewUrl : undefined,
            finalPrompt: answer.finalPrompt === undefined ? undefined : unsigned(answer.finalPrompt),
          },
          this.#now(),
        );
      }
      case 'failed':
      case 'cancelled':
        return this.#finish(id, {
          status: answer.status,
          error: answer.error ?? 'The upstream reported a failure',
          progress: answer.progress ?? null,
        });
      case 'complete':
        if (answer.finalPrompt) store.updateActive(id, { finalPrompt: unsigned(answer.finalPrompt) }, this.#now());
        if (job.kind === 'describe') {
          if (!answer.descriptions?.length) {
            return this.#finish(id, { status: 'failed', error: 'The upstream finished describing without any prompt' });
          }
          return this.#finish(id, { status: 'complete', progress: 100, descriptions: answer.descriptions });
        }
        logger.debug({ job_id: id }, 'job finished upstream; downloading the image');
        return this.#keepImage(job, answer.imageUrl ?? '');
      default:
        // Adapters map every status they accept; anything else is an answer we cannot read.
        throw new UpstreamError('bad_response', 'The upstream reported a status this server does not know');
    }
  }

  async #keepImage(job: JobRecord, url: string): Promise<JobRecord | undefined> {
    // A webhook and a status check may both report the finish: download once.
    if (this.#downloading.has(job.id)) return job;
    this.#downloading.add(job.id);
    try {
      let name: string;
      try {
        const image = await this.#deps.fetcher.fetch(url);
        name = await this.#deps.images.save(job.id, image.body, image.ext);
      } catch (error) {
        this.#deps.logger.warn({ job_id: job.id, err: error }, 'image download failed');
        return this.#finish(job.id, {
          status: 'failed',
          error: `The image could not be downloaded: ${describe(error)}`,
        });
      }
      const done = this.#finish(job.id, { status: 'complete', progress: 100, imageFile: name, error: null });
      if (done) return done;
      // Cancelled or removed while downloading: the file belongs to nobody.
      const current = this.#deps.store.get(job.id);
      if (current?.imageFile !== name) await this.#deps.images.remove(name);
      return current;
    } finally {
      this.#downloading.delete(job.id);
    }
  }

  #finish(id: string, patch: JobPatch): JobRecord | undefined {
    const now = this.#now();
    this.#forgetPreview(id);
    return this.#deps.store.updateActive(id, { ...patch, finishedAt: now, checkedAt: now, previewUrl: null }, now);
  }

  #cancelUpstream(upstreamId: string): void {
    this.#deps.upstream.cancel?.(upstreamId).catch((error: unknown) => {
      this.#deps.logger.info({ err: error }, 'the upstream could not cancel a job');
    });
  }

  #mustGet(id: string): JobRecord {
    const job = this.#deps.store.get(id);
    if (!job) throw new DomainError('not_found', 'No such job');
    return job;
  }
}

function describe(error: unknown): string {
  if (error instanceof UpstreamError) return error.message;
  return 'an unexpected error';
}
