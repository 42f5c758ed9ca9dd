// Owns the life of a job: recorded before the upstream is called, confirmed after it answers,
// refreshed from the upstream until it ends, its image downloaded and kept. Routes, the
// scheduler and the webhook intake call this; only this talks to the store, the image files
// and the upstream. It speaks in domain errors (errors.ts), never in HTTP.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ImagineRequest } from '@shared/schemas/imagine';
import {
  ACTION_OUTPUT,
  JOB_ACTIONS,
  type JobAction,
  type JobActionRequest,
  type JobListQuery,
  type OfferedAction,
  VIDEO_COST,
} from '@shared/schemas/job';
import { pannedRatio } from '@shared/schemas/job-values';
import type { PromptParams } from '@shared/schemas/params-values';
import { paramCost, parsePrompt, validateParams } from '@shared/schemas/prompt-params';
import type { BlendRequest, BlendShape, DescribeRequest, ImageReference, ReferenceRole } from '@shared/schemas/upload';
import type { Logger } from 'pino';
import type { Account, AccountPool } from '../accounts/account-pool';
import { DomainError, UpstreamError } from '../errors';
import { checkUpload, DEFAULT_UPLOAD_LIMITS } from '../media/upload-image';
import { contentTypeFor, type ImageFiles } from '../store/image-files';
import {
  type ActionInputRecord,
  type ActiveStatus,
  isActive,
  type JobFilter,
  type JobPatch,
  type JobRecord,
  type JobStore,
  type StoredOffer,
} from '../store/job-store';
import type { ImageInput, UpstreamAdapter, UpstreamJob, UpstreamOffer } from '../upstream/adapter';
import type { FetchedImage, ImageFetcher } from '../upstream/image-fetcher';
import { preparePrompt } from '../upstream/prompt-text';
import type { UploadService } from './upload-service';

export interface JobServiceDeps {
  store: JobStore;
  images: ImageFiles;
  /** The upstream accounts; each job is sent through its account's adapter. */
  accounts: AccountPool;
  fetcher: ImageFetcher;
  uploads: UploadService;
  logger: Logger;
  /** A job still unfinished this long after submission is given up as failed. */
  deadlineMs: number;
  now?: () => number;
}

// Refusals the upstream answered definitively: it did not take the job, so no record is kept.
const NOT_ACCEPTED = new Set(['refused', 'rejected', 'rate_limited', 'busy', 'auth', 'account']);

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

/** How the actions read in a message: "upscale_creative" becomes "Upscale (Creative)" in the UI; here, its name. */
const ACTION_SET: ReadonlySet<string> = new Set(JOB_ACTIONS);

/** The offers kept from a report: known actions, each once. */
const keptOffers = (offers: UpstreamOffer[] | undefined): StoredOffer[] | undefined =>
  offers?.filter((offer) => ACTION_SET.has(offer.action));

/** An action checked and priced, ready to be recorded (JobService.planAction). */
export interface ActionPlan {
  parent: JobRecord;
  text: string;
  params: PromptParams;
  imageUrls: string[];
  aspectRatio: string;
  cost: number;
}

/** The most ancestors a lineage shows (each is one read). */
const LINEAGE_DEPTH = 20;
const LINEAGE_CHILDREN = 100;

/** A mask's limits: a PNG of reasonable size (it is re-encoded before it is kept). */
const MASK_LIMITS = { ...DEFAULT_UPLOAD_LIMITS, minSide: 8, maxSide: 4096, maxPixels: 4096 * 4096 };

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
  readonly #deps: JobServiceDeps;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<JobRecord | undefined>>();
  readonly #downloading = new Set<string>();
  /** The last preview fetched per job, so many watchers of one job cost one download. */
  readonly #previews = new Map<string, CachedPreview>();
  #previewBytes = 0;

  readonly #listeners: ((job: JobRecord, where: 'here' | 'elsewhere') => void)[] = [];
  readonly #followed: ((id: string) => boolean)[] = [];

  constructor(deps: JobServiceDeps) {
    // Every change of a job passes through the store's updateActive: listeners hear each one.
    this.#deps = { ...deps, store: withChanges(deps.store, (job) => this.#changed(job)) };
    this.#now = deps.now ?? Date.now;
    this.upstreamName = deps.accounts.first.adapter.name;
  }

  /** The adapter of the account a job was (or, for the first account, will be) sent through. */
  #adapterOf(job: Pick<JobRecord, 'account'>): UpstreamAdapter {
    const account = this.#deps.accounts.get(job.account);
    if (!account) {
      throw new UpstreamError('rejected', `The account "${job.account}" this job was sent to is no longer configured`);
    }
    return account.adapter;
  }

  /** The base URL of the account a job runs on: its links are trusted on that host alone. */
  #sourceOf(job: Pick<JobRecord, 'account'>): string | undefined {
    return this.#deps.accounts.get(job.account)?.baseUrl;
  }

  /** Accounts that may take new work, for what a submission can ask of the pool. */
  #enabledAdapters(): UpstreamAdapter[] {
    return this.#deps.accounts.enabled().map((account) => account.adapter);
  }

  /**
   * Whether this account can run the job: an action goes only where its grid was made; a
   * speed only where it is offered; describe and blend only where the upstream does them;
   * images only as bytes where the upstream takes them so, or as links when we have an address.
   */
  suits(job: JobRecord, account: Account): boolean {
    if (job.action) {
      const parent = job.parentId ? this.#deps.store.get(job.parentId) : undefined;
      const made = parent ? this.#deps.accounts.get(parent.account) : undefined;
      // A parent gone (deleted) fails the job when sent; any account can say so.
      return parent ? made === account : true;
    }
    if (!account.spec.modes.includes(job.params.speed ?? 'fast')) return false;
    const { adapter } = account;
    if (job.kind === 'describe' && !adapter.describe) return false;
    if (job.kind === 'blend' && !adapter.blend) return false;
    // Describe and blend take their images as bytes wherever the upstream does them at all.
    const inline: readonly string[] = job.kind === 'imagine' ? (adapter.inlineRoles ?? []) : ['image'];
    return job.refs.every((ref) => inline.includes(ref.role) || this.#deps.uploads.linksAvailable);
  }

  /** The accounts that could ever run this job (switched on, whether healthy now or not). */
  suitableAccounts(job: JobRecord): Account[] {
    return this.#deps.accounts.enabled().filter((account) => this.suits(job, account));
  }

  /**
   * Asks a down account whether it answers again: a status check of a job no account has.
   * "No such job" (or any readable refusal about the job) means it answers and takes the key.
   */
  async probe(account: Account): Promise<void> {
    try {
      await account.adapter.getJob(`mj-studio-probe-${randomBytes(6).toString('hex')}`);
    } catch (error) {
      if (error instanceof UpstreamError && ['not_found', 'rejected', 'refused'].includes(error.kind)) {
        return;
      }
      throw error;
    }
  }

  /**
   * Calls `listener` with every job that changed (a status, a progress, a result): `here`, or
   * (several instances) `elsewhere`, when another instance says it changed one.
   */
  onChange(listener: (job: JobRecord, where: 'here' | 'elsewhere') => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Another instance changed this job: the listeners here hear of it too (a relay client's
   * hook), read from the store only when something here follows it (`followsElsewhere`).
   */
  changedElsewhere(id: string): void {
    if (!this.#followed.some((follows) => follows(id))) return;
    const job = this.#deps.store.get(id);
    if (job) this.#changed(job, 'elsewhere');
  }

  /** Says which jobs something here wants to hear of when another instance changes them. */
  followsElsewhere(follows: (id: string) => boolean): void {
    this.#followed.push(follows);
  }

  #changed(job: JobRecord, where: 'here' | 'elsewhere' = 'here'): void {
    for (const listener of this.#listeners) {
      try {
        listener(job, where);
      } catch (error) {
        this.#deps.logger.warn({ job_id: job.id, err: error }, 'a job change listener failed');
      }
    }
  }

  /** Records a new job before anything is sent anywhere, so that no crash can lose it. */
  record(ownerId: string, input: ImagineRequest): JobRecord {
    const named: { role: ReferenceRole; ref: ImageReference }[] = [
      ...input.image_prompts.map((ref) => ({ role: 'image' as const, ref })),
      ...input.style_refs.map((ref) => ({ role: 'style' as const, ref })),
      ...(input.omni_ref ? [{ role: 'omni' as const, ref: input.omni_ref }] : []),
    ];
    const adapters = this.#enabledAdapters();
    const inlineRoles = [...new Set(adapters.flatMap((adapter) => adapter.inlineRoles ?? []))];
    const refs = this.#deps.uploads.check(ownerId, named, inlineRoles);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'imagine',
      // What the pool's first account makes; set again from the account it is sent to.
      output: adapters[0]?.imagineOutput ?? 'image',
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
    if (job.action && ACTION_OUTPUT[job.action] === 'video') return VIDEO_COST;
    return costOf(
      job.params,
      job.refs.some((ref) => ref.role === 'omni'),
    );
  }

  /** Records a request for four candidate prompts of one of the owner's images. */
  recordDescribe(ownerId: string, request: DescribeRequest): JobRecord {
    if (!this.#enabledAdapters().some((adapter) => adapter.describe)) {
      throw new DomainError('conflict', `The upstream in use (${this.upstreamName}) cannot describe images`);
    }
    const refs = this.#deps.uploads.check(ownerId, [{ role: 'image', ref: request.image }], ['image']);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'describe',
      output: 'text',
      prompt: 'Describe this image',
      params: {},
      refs,
      aspectRatio: '1:1',
      createdAt: this.#now(),
    });
  }

  /** Records a blend of 2 to 5 of the owner's images into one grid, in the shape asked. */
  recordBlend(ownerId: string, request: BlendRequest): JobRecord {
    if (!this.#enabledAdapters().some((adapter) => adapter.blend)) {
      throw new DomainError('conflict', `The upstream in use (${this.upstreamName}) cannot blend images`);
    }
    const named = request.images.map((ref) => ({ role: 'image' as const, ref }));
    const refs = this.#deps.uploads.check(ownerId, named, ['image']);
    return this.#deps.store.insert({
      id: newJobId(),
      ownerId,
      kind: 'blend',
      output: 'grid',
      prompt: `Blend of ${refs.length} images`,
      params: {},
      refs,
      aspectRatio: BLEND_RATIOS[request.shape],
      createdAt: this.#now(),
    });
  }

  /**
   * What a finished job offers to do next: what its upstream's report said (a relay's
   * buttons), or, for a grid whose upstream said nothing (an older relay), the classic three.
   */
  offersFor(job: JobRecord): StoredOffer[] {
    const upstream = this.#deps.accounts.get(job.account)?.adapter;
    if (job.status !== 'complete' || !job.upstreamId || !upstream?.act) return [];
    if (job.offers) return job.offers;
    if (job.output !== 'grid' || !upstream.gridActions?.length) return [];
    return upstream.gridActions.flatMap((action): StoredOffer[] =>
      action === 'upscale' || action === 'variation' ? [1, 2, 3, 4].map((index) => ({ action, index })) : [{ action }],
    );
  }

  /** The offers as the owner sees them: without the upstream's ids. */
  actionsFor(job: JobRecord): OfferedAction[] {
    return this.offersFor(job).map(({ action, index }) => (index === undefined ? { action } : { action, index }));
  }

  /** Why this job cannot take the action (a conflict), or undefined when it can. */
  #refusal(job: JobRecord, request: Pick<JobActionRequest, 'action' | 'index'>): string | undefined {
    const upstream = this.#deps.accounts.get(job.account);
    if (!upstream) return `The account "${job.account}" that made this job is no longer configured`;
    if (!upstream.spec.enabled) return `The account "${upstream.spec.name}" that made this job is switched off`;
    if (!upstream.adapter.act) return `The upstream in use (${upstream.adapter.name}) takes no actions`;
    if (job.status !== 'complete' || !job.upstreamId) return `Actions need a finished job; this one is ${job.status}`;
    if (job.kind === 'describe') return 'A describe job has no image to act on';
    const offers = this.offersFor(job);
    if (offers.some((offer) => offer.action === request.action && offer.index === request.index)) return undefined;
    const named = request.index === undefined ? request.action : `${request.action} ${request.index}`;
    if (offers.length === 0) return `This ${job.output === 'video' ? 'video' : 'job'} offers no actions`;
    return `This job does not offer ${named}; it offers ${[...new Set(offers.map((offer) => offer.action))].join(', ')}`;
  }

  /**
   * Everything an action on this job will be, before anything is read or recorded: throws the
   * 404, or the conflict (not offered, a pan beyond Midjourney's bounds), and answers the new
   * job's prompt, parameters and cost (a Remix's own parameters count; a video costs more).
   */
  planAction(ownerId: string, parentId: string, request: JobActionRequest): ActionPlan {
    const parent = this.get(ownerId, parentId);
    const refusal = this.#refusal(parent, request);
    if (refusal) throw new DomainError('conflict', refusal);
    let text = parent.prompt;
    let params = parent.params;
    let imageUrls = parent.imageUrls;
    if (request.prompt) {
      // Checked by the request schema already; a Remix's prompt replaces the text and the image
      // links it writes, and its parameters are laid over the job's.
      const parsed = parsePrompt(request.prompt);
      text = parsed.text || parent.prompt;
      params = { ...parent.params, ...parsed.params };
      if (parsed.imageUrls.length > 0) imageUrls = parsed.imageUrls;
    }
    const pan = /^pan_(left|right|up|down)$/.exec(request.action)?.[1] as 'left' | 'right' | 'up' | 'down' | undefined;
    if (pan) {
      const ratio = pannedRatio(params.aspect_ratio ?? parent.aspectRatio, pan);
      const issue = validateParams({ aspect_ratio: ratio }).issues[0];
      if (issue) throw new DomainError('conflict', `This image cannot be panned ${pan} again: ${issue.message}`);
      params = { ...params, aspect_ratio: ratio };
    }
    const checked = validateParams(params).issues[0];
    if (checked) throw new DomainError('invalid', `prompt: ${checked.message}`, { field: 'prompt' });
    const aspectRatio = params.aspect_ratio ?? parent.aspectRatio;
    const cost =
      ACTION_OUTPUT[request.action] === 'video'
        ? VIDEO_COST
        : costOf(
            params,
            parent.refs.some((ref) => ref.role === 'omni'),
          );
    return { parent, text, params, imageUrls, aspectRatio, cost };
  }

  /** Throws the 404, or the 409 when the job does not offer the action (before its input is asked for). */
  checkAction(ownerId: string, parentId: string, action: JobAction): void {
    const refusal = this.#refusal(this.get(ownerId, parentId), { action });
    if (refusal) throw new DomainError('conflict', refusal);
  }

  /** Moves a browser's history to the owner it signs in as. */
  adoptOwner(from: string, to: string): void {
    const moved = this.#deps.store.reassignOwner(from, to);
    if (moved > 0) this.#deps.logger.info({ jobs: moved }, "a browser's history joined its token's owner");
  }

  /** The job's relay-style task number (digits), made on first use. */
  taskNumberOf(jobId: string): number {
    return this.#deps.store.taskNumberOf(jobId);
  }

  /** The job a relay-style task number stands for, whoever owns it (the caller checks). */
  jobIdOfTaskNumber(taskNumber: number): string | undefined {
    return this.#deps.store.jobIdOfTaskNumber(taskNumber);
  }

  /** The `state` a relay client gave with the job, echoed back verbatim. */
  relayState(jobId: string): string | undefined {
    return this.#deps.store.relayStateOf(jobId);
  }

  setRelayState(jobId: string, state: string): void {
    this.#deps.store.setRelayState(jobId, state);
  }

  /** A Vary (Region) mask as we keep it: a PNG checked and re-encoded from its bytes. */
  async checkMask(dataUrl: string): Promise<Buffer> {
    const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    try {
      const checked = await checkUpload(bytes, { ...MASK_LIMITS, maxBytes: bytes.length + 1 });
      if (checked.extension !== 'png') throw new DomainError('invalid', 'The mask must be a PNG');
      return checked.body;
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError('invalid', `mask: ${error.message}`, { field: 'mask' });
      throw error;
    }
  }

  /**
   * Records a planned action as a new job linked to the job it was taken on, to be sent like a
   * submission. `mask`: checked by checkMask, kept before the job is recorded (a crash between
   * the two leaves at most a file nobody names, never a job without its mask).
   */
  async recordAction(
    ownerId: string,
    plan: ActionPlan,
    request: JobActionRequest,
    mask?: Buffer | undefined,
  ): Promise<JobRecord> {
    const { parent } = plan;
    const id = newJobId();
    const maskFile = mask ? await this.#deps.images.save(`${id}-mask`, mask, 'png') : undefined;
    const actionInput: ActionInputRecord = {
      ...(request.prompt ? { prompt: request.prompt } : {}),
      ...(request.zoom === undefined ? {} : { zoom: request.zoom }),
      ...(maskFile ? { maskFile } : {}),
    };
    try {
      return this.#deps.store.insert({
        id,
        ownerId,
        kind: 'action',
        output: ACTION_OUTPUT[request.action],
        prompt: plan.text,
        params: plan.params,
        imageUrls: plan.imageUrls,
        refs: parent.refs,
        aspectRatio: plan.aspectRatio,
        createdAt: this.#now(),
        parentId: parent.id,
        action: request.action,
        actionIndex: request.index ?? null,
        actionInput: Object.keys(actionInput).length > 0 ? actionInput : null,
      });
    } catch (error) {
      if (maskFile) await this.#deps.images.remove(maskFile);
      throw error;
    }
  }

  /** Forgets a job and every file it has (its image, clip and mask). */
  async #forget(job: JobRecord): Promise<void> {
    this.#deps.store.delete(job.id);
    for (const file of [job.imageFile, job.videoFile, job.actionInput?.maskFile]) {
      if (file) await this.#deps.images.remove(file);
    }
  }

  /**
   * Sends a recorded job upstream while its submitter waits for the answer (an HTTP request):
   * a definitive refusal removes the record and is thrown to them, as if it never existed.
   */
  sendNow(id: string, account: Account, requeue: (error: UpstreamError) => boolean): Promise<JobRecord | undefined> {
    return this.#send(id, account, async (error) => {
      if (requeue(error)) return this.#requeue(id);
      const job = this.#deps.store.get(id);
      if (job) await this.#forget(job);
    });
  }

  /** Puts a job the account did not take back to `queued`, for another account (or later). */
  #requeue(id: string): void {
    this.#deps.store.updateActive(id, { status: 'queued', account: null }, this.#now());
  }

  /**
   * Sends a job that waited in the queue: nobody waits for the answer, so a refusal stays
   * visible on the job, and an upstream 429 puts it back to `queued` and is thrown so the
   * caller can retry later.
   */
  sendQueued(id: string, account: Account, requeue: (error: UpstreamError) => boolean): Promise<JobRecord | undefined> {
    return this.#send(id, account, (error) => {
      if (error.kind === 'rate_limited' || error.kind === 'busy' || requeue(error)) this.#requeue(id);
      else this.#finish(id, { status: 'failed', error: error.message });
    });
  }

  /** `refused`: what to do with the record when the upstream definitively did not take the job. */
  async #send(
    id: string,
    account: Account,
    refused: (error: UpstreamError) => void | Promise<void>,
  ): Promise<JobRecord | undefined> {
    const { store } = this.#deps;
    const upstream = account.adapter;
    const output = this.#deps.store.get(id)?.kind === 'imagine' ? { output: upstream.imagineOutput ?? 'image' } : {};
    // Claimed only from `queued`: a job another instance is already sending is not sent twice.
    const job = store.updateActive(
      id,
      { status: 'submitting', account: this.#deps.accounts.recordedName(account), ...output },
      this.#now(),
      ['queued'],
    );
    if (!job) return store.get(id);
    let answer: Awaited<ReturnType<UpstreamAdapter['submit']>>;
    try {
      answer = await this.#submit(job, upstream);
    } catch (error) {
      if (error instanceof UpstreamError && NOT_ACCEPTED.has(error.kind)) {
        await refused(error);
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

  async #submit(job: JobRecord, upstream: UpstreamAdapter): ReturnType<UpstreamAdapter['submit']> {
    if (job.action) return this.#act(job, upstream);
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

  /**
   * An action names the job it was taken on and the offer it takes. The whole prompt goes
   * along, written as a submission's is, for a relay that asks for it (Remix, a region, a
   * zoom); the mask is read before anything is pressed.
   */
  async #act(job: JobRecord, upstream: UpstreamAdapter): ReturnType<UpstreamAdapter['submit']> {
    const { store, images } = this.#deps;
    const parent = job.parentId ? store.get(job.parentId) : undefined;
    if (!parent?.upstreamId || !upstream.act || !job.action) {
      throw new UpstreamError('rejected', 'The job this action was taken on is gone (deleted) or cannot take actions');
    }
    const offer = this.offersFor(parent).find(
      (item) => item.action === job.action && item.index === (job.actionIndex ?? undefined),
    );
    const input = job.actionInput ?? {};
    const maskFile = input.maskFile;
    let mask: Buffer | undefined;
    if (maskFile) {
      try {
        mask = await readFile(images.pathOf(maskFile));
      } catch {
        throw new UpstreamError('rejected', 'The mask of this Vary (Region) is gone; it was not sent');
      }
    }
    // Images the upstream takes only as bytes cannot travel in a modal's prompt: left out there.
    const { prompt } = preparePrompt(
      { text: job.prompt, params: job.params, imageUrls: job.imageUrls, images: this.#linkedImages(job) },
      { inlineRoles: upstream.inlineRoles ?? [] },
    );
    return upstream.act({
      gridId: parent.upstreamId,
      action: job.action,
      index: job.actionIndex ?? undefined,
      customId: offer?.customId,
      prompt,
      remix: input.prompt !== undefined,
      zoom: input.zoom,
      mask: mask ? { load: async () => mask } : undefined,
    });
  }

  /** The job's images, for the links a prompt writes; none when one is gone (the prompt then goes without). */
  #linkedImages(job: JobRecord): ImageInput[] {
    try {
      return this.#deps.uploads.inputs(job.ownerId, job.refs);
    } catch {
      return [];
    }
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
    if (job?.status === 'queued') void this.#forget(job);
  }

  /** Our job for the upstream's id, for a webhook that names only the latter. */
  findByUpstreamId(upstreamId: string, account: Account): JobRecord | undefined {
    return this.#deps.store.getByUpstreamId(upstreamId, account.spec.name, account === this.#deps.accounts.first);
  }

  /** Whether a webhook delivery id was already dealt with (applied, or refused for good). */
  hasDelivery(deliveryId: string): boolean {
    return this.#deps.store.hasDelivery(deliveryId);
  }

  /** Records a webhook delivery id once it is dealt with; false when it was seen before. */
  rememberDelivery(deliveryId: string): boolean {
    return this.#deps.store.rememberDelivery(deliveryId, this.#now());
  }

  /** A page of the owner's jobs, newest first, narrowed by the query's filters. */
  list(ownerId: string, query: Pick<JobListQuery, 'limit' | 'cursor'> & Partial<JobListQuery>) {
    return this.#deps.store.listByOwner(ownerId, { limit: query.limit, cursor: query.cursor, filter: filterOf(query) });
  }

  /** Marks or unmarks one of the owner's jobs as a favourite. */
  setFavourite(ownerId: string, id: string, favourite: boolean): JobRecord {
    this.get(ownerId, id);
    return this.#deps.store.setFavourite(id, favourite, this.#now()) ?? this.#mustGet(id);
  }

  /** The jobs a job came from (the oldest first) and those made from it, all the owner's. */
  lineage(ownerId: string, id: string): { ancestors: JobRecord[]; children: JobRecord[] } {
    const job = this.get(ownerId, id);
    const ancestors: JobRecord[] = [];
    const seen = new Set([job.id]);
    let parentId = job.parentId;
    while (parentId && ancestors.length < LINEAGE_DEPTH && !seen.has(parentId)) {
      seen.add(parentId);
      const parent = this.#deps.store.get(parentId);
      if (!parent || parent.ownerId !== ownerId) break;
      ancestors.unshift(parent);
      parentId = parent.parentId;
    }
    const children = this.#deps.store
      .listChildren(job.id, LINEAGE_CHILDREN)
      .filter((child) => child.ownerId === ownerId);
    return { ancestors, children };
  }

  async cancel(ownerId: string, id: string): Promise<JobRecord> {
    const job = this.get(ownerId, id);
    if (!isActive(job.status)) throw new DomainError('conflict', `The job is already ${job.status}`);
    const cancelled = this.#finish(id, { status: 'cancelled', error: 'Cancelled' });
    if (job.upstreamId) this.#cancelUpstream(job, job.upstreamId);
    return cancelled ?? this.#mustGet(id);
  }

  async remove(ownerId: string, id: string): Promise<void> {
    const job = this.get(ownerId, id);
    await this.#forget(job);
    if (isActive(job.status) && job.upstreamId) this.#cancelUpstream(job, job.upstreamId);
  }

  /** A kept image of one of this owner's jobs: where its file is and what it is. */
  keptImage(ownerId: string, name: string): { file: string; contentType: string; job: JobRecord } {
    const job = this.get(ownerId, name.slice(0, name.lastIndexOf('.')));
    if (job.imageFile !== name) throw new DomainError('not_found', 'No such image');
    return { file: this.#deps.images.pathOf(name), contentType: contentTypeFor(name), job };
  }

  /** A kept image or clip of any job, by its file name, for a share link already verified. */
  sharedFile(name: string): { file: string; contentType: string } {
    const job = this.#deps.store.get(name.slice(0, name.lastIndexOf('.')));
    if (!job || (job.imageFile !== name && job.videoFile !== name)) throw new DomainError('not_found', 'No such file');
    return { file: this.#deps.images.pathOf(name), contentType: contentTypeFor(name) };
  }

  /** A kept video clip of one of this owner's jobs. */
  keptVideo(ownerId: string, name: string): { file: string; contentType: string; job: JobRecord } {
    const job = this.get(ownerId, name.slice(0, name.lastIndexOf('.')));
    if (job.videoFile !== name) throw new DomainError('not_found', 'No such video');
    return { file: this.#deps.images.pathOf(name), contentType: contentTypeFor(name), job };
  }

  /** The upstream's current preview of a running job, or undefined when it has none. */
  async preview(ownerId: string, id: string): Promise<FetchedImage | undefined> {
    const job = this.get(ownerId, id);
    if (!job.previewUrl || !isActive(job.status)) return undefined;
    const cached = this.#previews.get(id);
    if (cached?.url === job.previewUrl) return cached.image;
    const image = this.#deps.fetcher.fetch(job.previewUrl, this.#sourceOf(job));
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

  /**
   * At start-up: a submission the upstream never answered cannot be resumed; say so. With
   * several instances, `claimedBefore`: only those claimed before then (their sender is gone).
   * `active`: the store's active jobs, when the caller has just read them.
   */
  recoverInterrupted(
    claimedBefore = Number.POSITIVE_INFINITY,
    sendingHere: (id: string) => boolean = () => false,
    active: readonly JobRecord[] = this.#deps.store.listActive(),
  ): number {
    let count = 0;
    for (const job of active) {
      // `claimedBefore` (several instances): only claims too old to be still on their way, and
      // never one this instance is sending. Still `submitting` when failed: a confirmation
      // that came in meanwhile wins.
      if (job.status !== 'submitting' || job.updatedAt >= claimedBefore || sendingHere(job.id)) continue;
      const failed = this.#finish(
        job.id,
        {
          status: 'failed',
          error: 'The server stopped before the upstream confirmed this submission, so it was not tracked; try again',
        },
        ['submitting'],
      );
      if (failed) count += 1;
    }
    return count;
  }

  async #refresh(id: string): Promise<JobRecord | undefined> {
    const { store } = this.#deps;
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
      answer = await this.#adapterOf(job).getJob(job.upstreamId);
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
        return this.#keepResult(job, answer);
      default:
        // Adapters map every status they accept; anything else is an answer we cannot read.
        throw new UpstreamError('bad_response', 'The upstream reported a status this server does not know');
    }
  }

  /** Downloads and keeps what a finished job made: its image, and a video job's clip. */
  async #keepResult(job: JobRecord, answer: UpstreamJob): Promise<JobRecord | undefined> {
    // A webhook and a status check may both report the finish: download once.
    if (this.#downloading.has(job.id)) return job;
    this.#downloading.add(job.id);
    const kept: string[] = [];
    try {
      const video = job.output === 'video';
      if (video && !answer.videoUrl) {
        return this.#finish(job.id, { status: 'failed', error: 'The upstream finished the video without a clip' });
      }
      let imageFile: string | null = null;
      let videoFile: string | null = null;
      try {
        if (answer.videoUrl && video) {
          const clip = await this.#deps.fetcher.fetchVideo(answer.videoUrl, this.#sourceOf(job));
          videoFile = await this.#deps.images.save(job.id, clip.body, clip.ext);
          kept.push(videoFile);
        }
        // A video's first frame is its poster, where the upstream gives one (a clip is kept
        // without it); an image job needs its image.
        if (!video) {
          const image = await this.#deps.fetcher.fetch(answer.imageUrl ?? '', this.#sourceOf(job));
          imageFile = await this.#deps.images.save(job.id, image.body, image.ext);
          kept.push(imageFile);
        } else if (answer.imageUrl) {
          try {
            const poster = await this.#deps.fetcher.fetch(answer.imageUrl, this.#sourceOf(job));
            imageFile = await this.#deps.images.save(job.id, poster.body, poster.ext);
            kept.push(imageFile);
          } catch (error) {
            this.#deps.logger.warn({ job_id: job.id, err: error }, 'a clip’s first frame could not be downloaded');
          }
        }
      } catch (error) {
        this.#deps.logger.warn({ job_id: job.id, err: error }, 'result download failed');
        for (const file of kept) await this.#deps.images.remove(file);
        kept.length = 0;
        return this.#finish(job.id, {
          status: 'failed',
          error: `The ${video ? 'video' : 'image'} could not be downloaded: ${describe(error)}`,
        });
      }
      const offers = keptOffers(answer.offers);
      const done = this.#finish(job.id, {
        status: 'complete',
        progress: 100,
        imageFile,
        videoFile,
        error: null,
        ...(offers ? { offers } : {}),
      });
      if (done) return done;
      // Cancelled or removed while downloading: the files belong to nobody.
      const current = this.#deps.store.get(job.id);
      for (const file of kept)
        if (current?.imageFile !== file && current?.videoFile !== file) await this.#deps.images.remove(file);
      return current;
    } finally {
      this.#downloading.delete(job.id);
    }
  }

  #finish(id: string, patch: JobPatch, from?: readonly ActiveStatus[]): JobRecord | undefined {
    const now = this.#now();
    this.#forgetPreview(id);
    return this.#deps.store.updateActive(
      id,
      { ...patch, finishedAt: now, checkedAt: now, previewUrl: null },
      now,
      from,
    );
  }

  #cancelUpstream(job: Pick<JobRecord, 'account'>, upstreamId: string): void {
    this.#deps.accounts
      .get(job.account)
      ?.adapter.cancel?.(upstreamId)
      .catch((error: unknown) => {
        this.#deps.logger.info({ err: error }, 'the upstream could not cancel a job');
      });
  }

  #mustGet(id: string): JobRecord {
    const job = this.#deps.store.get(id);
    if (!job) throw new DomainError('not_found', 'No such job');
    return job;
  }
}

/** The store as the service uses it: each successful updateActive is reported to `changed`. */
function withChanges(store: JobStore, changed: (job: JobRecord) => void): JobStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'updateActive') {
        return (...args: Parameters<JobStore['updateActive']>) => {
          const job = target.updateActive(...args);
          if (job) changed(job);
          return job;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The store's filter for a list query. */
function filterOf(query: Partial<JobListQuery>): JobFilter | undefined {
  // The store splits the words itself (letters, digits and their marks).
  const words = query.q ? [query.q] : [];
  const filter: JobFilter = {
    ...(words.length > 0 ? { words } : {}),
    ...(query.status?.length ? { statuses: query.status } : {}),
    ...(query.output?.length ? { outputs: query.output } : {}),
    ...(query.param?.length ? { params: query.param } : {}),
    ...(query.ar ? { aspectRatio: query.ar } : {}),
    ...(query.from !== undefined ? { from: query.from } : {}),
    // Exclusive: a bare date is the start of its day (the query schema's rule).
    ...(query.to !== undefined ? { to: query.to } : {}),
    ...(query.favourite ? { favourite: true } : {}),
  };
  return Object.keys(filter).length > 0 ? filter : undefined;
}

function describe(error: unknown): string {
  if (error instanceof UpstreamError) return error.message;
  return 'an unexpected error';
}
