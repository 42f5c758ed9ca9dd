// The job store's interface: the seam between job state and where it lives. SQLite in one
// process today; a networked store (Redis, Postgres) can implement the same contract later.
// The interface owns its errors too: callers never import a concrete store.

import type { Quality } from '@shared/schemas/imagine';
import type { JobAction, JobKind, JobOutput, JobStatus } from '@shared/schemas/job';
import type { ParamKey, PromptParams } from '@shared/schemas/params-values';
import type { ReferenceRole } from '@shared/schemas/upload';
import { DomainError } from '../errors';

/**
 * `queued`: recorded, waiting for budget to be sent upstream (safe to send after a restart).
 * `submitting`: sent, the upstream has not confirmed it yet (unknown after a crash).
 */
export const ACTIVE_STATUSES = ['queued', 'submitting', 'pending', 'processing'] as const;
export const FINAL_STATUSES = ['complete', 'failed', 'cancelled'] as const;
export const STORED_STATUSES = [...ACTIVE_STATUSES, ...FINAL_STATUSES] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

/** A list cursor this store did not make (or made by another version of it). */
export class InvalidCursorError extends DomainError {
  constructor() {
    super('invalid', 'Not a cursor this server made', { field: 'cursor' });
  }
}

/** An image a job uses, as stored: the owner's upload or the kept image of another job. */
export type StoredReference = { role: ReferenceRole } & ({ uploadId: string } | { jobId: string });

/**
 * An action the upstream offers on a finished job, in our names; `customId` is the relay's
 * button it presses (server-side only).
 */
export interface StoredOffer {
  action: JobAction;
  index?: number | undefined;
  customId?: string | undefined;
}

/** What an action's request carried besides its name: Remix's prompt, a zoom, a mask's file. */
export interface ActionInputRecord {
  prompt?: string | undefined;
  zoom?: number | undefined;
  /** The mask's file among the kept images (`<job id>-mask.png`). */
  maskFile?: string | undefined;
}

export interface JobRecord {
  id: string;
  ownerId: string;
  kind: JobKind;
  /** What the job makes: a grid, one image, a video, text. */
  output: JobOutput;
  favourite: boolean;
  /** The prompt's text alone: parameters live in `params`, image links in `imageUrls`. */
  prompt: string;
  params: PromptParams;
  imageUrls: string[];
  refs: StoredReference[];
  /** `params.aspect_ratio` or 1:1 (a blend's shape), kept as a column for the frame and the simulator. */
  aspectRatio: string;
  /** `high` for --q 2 and up: the older two-level field, derived from `params`. */
  quality: Quality;
  /** The whole prompt as the upstream ran it, where it says. */
  finalPrompt: string | null;
  /** A describe job's candidate prompts. */
  descriptions: string[] | null;
  status: StoredStatus;
  progress: number | null;
  upstreamId: string | null;
  error: string | null;
  imageFile: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  checkedAt: number | null;
  /** The upstream's low-resolution in-progress image link (server-side only). */
  previewUrl: string | null;
  /** Set on a job made by an action: our id of the job it was taken on, and the action. */
  parentId: string | null;
  action: JobAction | null;
  actionIndex: number | null;
  actionInput: ActionInputRecord | null;
  /** On a finished job: what its upstream offers to do next (null: it said nothing). */
  offers: StoredOffer[] | null;
  /** A video job's kept clip (its first frame is `imageFile`). */
  videoFile: string | null;
  /**
   * The upstream account the job was sent to (null: not sent yet, or sent before accounts
   * were recorded, i.e. by the pool's first account). Its actions go to the same account.
   */
  account: string | null;
}

export type NewJob = Pick<
  JobRecord,
  'id' | 'ownerId' | 'kind' | 'output' | 'prompt' | 'params' | 'aspectRatio' | 'createdAt'
> &
  Partial<Pick<JobRecord, 'imageUrls' | 'refs' | 'parentId' | 'action' | 'actionIndex' | 'actionInput'>>;

export type JobPatch = Partial<
  Pick<
    JobRecord,
    | 'status'
    | 'progress'
    | 'upstreamId'
    | 'error'
    | 'imageFile'
    | 'finishedAt'
    | 'checkedAt'
    | 'previewUrl'
    | 'finalPrompt'
    | 'descriptions'
    | 'offers'
    | 'videoFile'
    | 'account'
    | 'output'
  >
>;

/**
 * What a list is narrowed to; every field given must hold. `words`: each is a prefix of a
 * word of the prompt (full-text). `statuses` are the public ones (`pending` covers jobs still
 * being submitted). `to` is exclusive.
 */
export interface JobFilter {
  words?: string[] | undefined;
  statuses?: JobStatus[] | undefined;
  outputs?: JobOutput[] | undefined;
  /** Jobs whose parameters include every one of these keys. */
  params?: ParamKey[] | undefined;
  aspectRatio?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  favourite?: boolean | undefined;
}

export interface JobPage {
  jobs: JobRecord[];
  nextCursor: string | null;
}

/** A signed-in browser's session, known by the hash of its id (the id itself is only in the cookie). */
export interface SessionRecord {
  idHash: string;
  ownerId: string;
  /** Which ACCESS_TOKEN it was opened with (a keyed hash): another token voids it. */
  tokenId: string;
  createdAt: number;
  expiresAt: number;
}

/** An image an owner uploaded to use as input; the file is kept beside the results. */
export interface UploadRecord {
  id: string;
  ownerId: string;
  file: string;
  contentType: 'image/png' | 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
  bytes: number;
  createdAt: number;
}

/**
 * A key for scripts and relay-protocol clients, made in the studio: stored as a hash of the
 * secret (shown once). Each key is an owner of its own (`ownerId`); `creatorId` is the owner
 * who made it and may list and revoke it.
 */
export interface ApiKeyRecord {
  id: string;
  creatorId: string;
  ownerId: string;
  name: string;
  /** A keyed hash (HMAC-SHA256) of the secret, hex. */
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface JobStore {
  insert(job: NewJob): JobRecord;
  get(id: string): JobRecord | undefined;
  /**
   * Applies the patch only while the job is still active, so a late upstream answer can
   * never overwrite a cancellation or a finished result. Answers the updated record, or
   * undefined when the job is gone or already finished. `from`: only while its status is one
   * of these (active ones), so that of several instances only one claims a queued job.
   */
  updateActive(id: string, patch: JobPatch, now: number, from?: readonly ActiveStatus[]): JobRecord | undefined;
  /**
   * Newest first; the cursor is opaque and stays valid while new jobs arrive. A cursor the
   * store did not make throws InvalidCursorError.
   */
  listByOwner(
    ownerId: string,
    options: { limit: number; cursor?: string | undefined; filter?: JobFilter | undefined },
  ): JobPage;
  /** The jobs made from this one (its actions), oldest first, at most `limit`. */
  listChildren(parentId: string, limit: number): JobRecord[];
  /** Marks or unmarks a job of any status; undefined when there is no such job. */
  setFavourite(id: string, favourite: boolean, now: number): JobRecord | undefined;
  listActive(): JobRecord[];
  /**
   * Our job for an upstream's id on one account (ids are the account's own: two accounts may
   * both have a job 17). Jobs recorded before accounts were count as the first account's.
   */
  getByUpstreamId(upstreamId: string, account: string, firstAccount: boolean): JobRecord | undefined;
  /** Whether this webhook delivery id was remembered (applied, or refused for good) before. */
  hasDelivery(id: string): boolean;
  /** Records a webhook delivery id; false when it was seen before (a repeat to ignore). */
  rememberDelivery(id: string, now: number): boolean;
  /** How many of this owner's jobs are still running (for the per-client limit). */
  countActiveByOwner(ownerId: string): number;
  delete(id: string): boolean;
  saveSession(session: SessionRecord): void;
  getSession(idHash: string): SessionRecord | undefined;
  deleteSession(idHash: string): void;
  /** Forgets sessions that expired before `now`, or were opened with another token. */
  deleteStaleSessions(now: number, tokenId: string): number;
  /** Moves every job, upload and API key (as its creator) of one owner to another; answers how many jobs moved. */
  reassignOwner(from: string, to: string): number;
  insertApiKey(key: ApiKeyRecord): void;
  /** A key by its secret's hash, revoked or not. */
  getApiKeyByHash(hash: string): ApiKeyRecord | undefined;
  /** The keys this owner made, newest first, revoked ones included. */
  listApiKeys(creatorId: string): ApiKeyRecord[];
  /** Revokes one of this creator's keys; false when there is no such live key. */
  revokeApiKey(id: string, creatorId: string, now: number): boolean;
  /** The creators that have at least one live key. */
  listApiKeyCreators(): string[];
  /** Revokes every live key this creator made; answers how many. */
  revokeApiKeysOf(creatorId: string, now: number): number;
  /** Records a use (at most once a minute is enough for a "last used" line). */
  touchApiKey(id: string, now: number): void;
  /**
   * The job's relay-style task number (digits only, as relays' ids are), made on first use
   * and never reused.
   */
  taskNumberOf(jobId: string): number;
  /** The job a task number stands for. */
  jobIdOfTaskNumber(taskNumber: number): string | undefined;
  /** The `state` a relay-protocol client sent with the job (echoed verbatim in its task). */
  relayStateOf(jobId: string): string | undefined;
  setRelayState(jobId: string, state: string): void;
  insertUpload(upload: UploadRecord): void;
  getUpload(id: string): UploadRecord | undefined;
  deleteUpload(id: string): boolean;
  close(): void;
}

export const isActive = (status: StoredStatus): boolean =>
  (ACTIVE_STATUSES as readonly StoredStatus[]).includes(status);
