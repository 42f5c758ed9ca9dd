// What both job stores mean by their columns, whatever the engine: a row read back as a record, a
// patch as columns, the list cursor, a filter's statuses. Drivers and engine SQL stay in each store.

import { qualitySchema } from '@shared/schemas/imagine';
import { JOB_KINDS, JOB_OUTPUTS, type JobStatus, jobActionSchema, paramsSchema } from '@shared/schemas/job';
import type { PromptParams } from '@shared/schemas/params-values';
import { REFERENCE_ROLES } from '@shared/schemas/upload';
import { z } from 'zod';
import {
  ACTIVE_STATUSES,
  type ApiKeyRecord,
  type JobPatch,
  type JobRecord,
  type SessionRecord,
  STORED_STATUSES,
  type StoredStatus,
  type UploadRecord,
} from './job-store';

/** `status IN (…the active statuses…)`, written once from the shared list; both engines read it alike. */
export const ACTIVE_SQL = `status IN (${ACTIVE_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** A JSON column, parsed and then checked like any other input. */
export const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const referenceRowSchema = z.union([
  z.object({ role: z.enum(REFERENCE_ROLES), uploadId: z.string() }),
  z.object({ role: z.enum(REFERENCE_ROLES), jobId: z.string() }),
]);

const offerRowSchema = z.object({
  action: jobActionSchema,
  index: z.number().int().min(1).max(4).optional(),
  customId: z.string().optional(),
});

const actionInputRowSchema = z.object({
  prompt: z.string().optional(),
  zoom: z.number().optional(),
  maskFile: z.string().optional(),
});

/**
 * How one engine's driver hands back the columns that are not text: better-sqlite3 gives
 * numbers (and 0 or 1 for a flag), the PostgreSQL store reads every column as its text.
 */
export interface ColumnTypes {
  /** Milliseconds since the epoch. */
  time: z.ZodType<number>;
  integer: z.ZodType<number>;
  real: z.ZodType<number>;
  boolean: z.ZodType<boolean>;
}

/** The schemas that turn each table's rows into records, for one engine's column types. */
export function rowSchemas({ time, integer, real, boolean }: ColumnTypes) {
  const job = z
    .object({
      id: z.string(),
      owner_id: z.string(),
      kind: z.enum(JOB_KINDS),
      output: z.enum(JOB_OUTPUTS),
      favourite: boolean,
      prompt: z.string(),
      params: json(paramsSchema),
      image_urls: json(z.array(z.string())),
      refs: json(z.array(referenceRowSchema)),
      final_prompt: z.string().nullable(),
      descriptions: json(z.array(z.string())).nullable(),
      aspect_ratio: z.string(),
      quality: qualitySchema,
      status: z.enum(STORED_STATUSES),
      progress: real.nullable(),
      upstream_id: z.string().nullable(),
      error: z.string().nullable(),
      image_file: z.string().nullable(),
      created_at: time,
      updated_at: time,
      finished_at: time.nullable(),
      checked_at: time.nullable(),
      preview_url: z.string().nullable(),
      parent_id: z.string().nullable(),
      action: jobActionSchema.nullable(),
      action_index: integer.nullable(),
      action_input: json(actionInputRowSchema).nullable(),
      // The upstream's offers are a convenience: a list this version cannot read (not JSON, an
      // action since renamed) leaves the job without offers rather than making it unreadable.
      offers: json(z.array(offerRowSchema)).nullable().catch(null),
      video_file: z.string().nullable(),
      account: z.string().nullable(),
    })
    .transform(
      (r): JobRecord => ({
        id: r.id,
        ownerId: r.owner_id,
        kind: r.kind,
        output: r.output,
        favourite: r.favourite,
        prompt: r.prompt,
        params: r.params,
        imageUrls: r.image_urls,
        refs: r.refs,
        finalPrompt: r.final_prompt,
        descriptions: r.descriptions,
        aspectRatio: r.aspect_ratio,
        quality: r.quality,
        status: r.status,
        progress: r.progress,
        upstreamId: r.upstream_id,
        error: r.error,
        imageFile: r.image_file,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        finishedAt: r.finished_at,
        checkedAt: r.checked_at,
        previewUrl: r.preview_url,
        parentId: r.parent_id,
        action: r.action,
        actionIndex: r.action_index,
        actionInput: r.action_input,
        offers: r.offers,
        videoFile: r.video_file,
        account: r.account,
      }),
    );

  const session = z
    .object({
      id_hash: z.string(),
      owner_id: z.string(),
      token_id: z.string(),
      created_at: time,
      expires_at: time,
    })
    .transform(
      (r): SessionRecord => ({
        idHash: r.id_hash,
        ownerId: r.owner_id,
        tokenId: r.token_id,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
      }),
    );

  const upload = z
    .object({
      id: z.string(),
      owner_id: z.string(),
      file: z.string(),
      content_type: z.enum(['image/png', 'image/jpeg', 'image/webp']),
      width: integer,
      height: integer,
      bytes: integer,
      created_at: time,
    })
    .transform(
      (r): UploadRecord => ({
        id: r.id,
        ownerId: r.owner_id,
        file: r.file,
        contentType: r.content_type,
        width: r.width,
        height: r.height,
        bytes: r.bytes,
        createdAt: r.created_at,
      }),
    );

  const apiKey = z
    .object({
      id: z.string(),
      creator_id: z.string(),
      owner_id: z.string(),
      name: z.string(),
      hash: z.string(),
      created_at: time,
      last_used_at: time.nullable(),
      revoked_at: time.nullable(),
    })
    .transform(
      (r): ApiKeyRecord => ({
        id: r.id,
        creatorId: r.creator_id,
        ownerId: r.owner_id,
        name: r.name,
        hash: r.hash,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        revokedAt: r.revoked_at,
      }),
    );

  return {
    job,
    session,
    upload,
    apiKey,
    taskNumber: z.object({ task_number: integer }),
    taskJob: z.object({ job_id: z.string() }),
    creator: z.object({ creator_id: z.string() }),
  };
}

/** Each field a patch may set, and its column. */
const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  status: 'status',
  progress: 'progress',
  upstreamId: 'upstream_id',
  error: 'error',
  imageFile: 'image_file',
  finishedAt: 'finished_at',
  checkedAt: 'checked_at',
  previewUrl: 'preview_url',
  finalPrompt: 'final_prompt',
  descriptions: 'descriptions',
  offers: 'offers',
  videoFile: 'video_file',
  account: 'account',
  output: 'output',
};
const PATCH_KEYS = Object.keys(PATCH_COLUMNS) as (keyof JobPatch)[];

/**
 * The columns a patch sets and the value each gets: a field left out or given as undefined sets
 * nothing, null clears it, and the lists (descriptions, offers) are the JSON columns. Always in
 * one order, so that the same fields make the same statement text.
 */
export function patchColumns(patch: JobPatch): { column: string; value: string | number | null }[] {
  const columns: { column: string; value: string | number | null }[] = [];
  for (const key of PATCH_KEYS) {
    const value = patch[key];
    if (value === undefined) continue;
    columns.push({ column: PATCH_COLUMNS[key], value: Array.isArray(value) ? JSON.stringify(value) : value });
  }
  return columns;
}

/** The older two-level quality, for the column and the API's `quality` field. */
export const qualityOf = (params: PromptParams) => ((params.quality ?? 1) >= 2 ? 'high' : 'standard');

/** The stored statuses each public one stands for (job-view.ts shows `submitting` as pending). */
const STORED_FOR: Record<JobStatus, readonly StoredStatus[]> = {
  queued: ['queued'],
  pending: ['submitting', 'pending'],
  processing: ['processing'],
  complete: ['complete'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

/** Distinct and sorted, so that the same set always makes the same SQL text (one statement). */
export const distinct = <T extends string>(values: readonly T[] | undefined): T[] => [...new Set(values ?? [])].sort();

/** The stored statuses a filter's public ones stand for, distinct and sorted. */
export const storedStatusesOf = (statuses: readonly JobStatus[] | undefined): StoredStatus[] =>
  distinct(distinct(statuses).flatMap((status) => STORED_FOR[status]));

const cursorSchema = z.tuple([z.number().int(), z.string()]);

/** A list's cursor: the position (created_at, id) of the last job handed out, as base64url JSON. */
export const encodeCursor = (job: JobRecord): string =>
  Buffer.from(JSON.stringify([job.createdAt, job.id])).toString('base64url');

/** The position a cursor stands for; undefined for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): [number, string] | undefined {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
