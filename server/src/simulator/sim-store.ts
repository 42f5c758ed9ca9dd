// Optional persistence for the simulator's jobs, so that the built-in upstream, like a real
// one, still knows its jobs after our server restarts (jobs are timestamps, not timers).

import { qualitySchema } from '@shared/schemas/imagine';
import Database from 'better-sqlite3';
import { z } from 'zod';

/**
 * What an action does to the picture it starts from (the parent's, tile `sourceTile` of a
 * grid): upscale it, vary it, zoom out, pan, repaint the white of a mask, animate it.
 */
export const simEditSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('upscale'), mode: z.enum(['subtle', 'creative']) }),
  z.object({ op: z.literal('vary'), strength: z.enum(['subtle', 'strong']) }),
  z.object({ op: z.literal('zoom'), factor: z.number().min(1).max(2) }),
  z.object({ op: z.literal('pan'), direction: z.enum(['left', 'right', 'up', 'down']) }),
  /** `mask`: a PNG, base64, white where the picture is repainted (with the job's prompt). */
  z.object({ op: z.literal('region'), mask: z.string().max(6_000_000) }),
  /** A clip of `seconds`; extending a clip makes a longer one that begins the same way. */
  z.object({ op: z.literal('animate'), motion: z.enum(['low', 'high']), seconds: z.number().positive().max(30) }),
]);
export type SimEdit = z.infer<typeof simEditSchema>;

export const SIM_KINDS = [
  'IMAGINE',
  'UPSCALE',
  'VARIATION',
  'REROLL',
  'DESCRIBE',
  'BLEND',
  'ZOOM',
  'PAN',
  'INPAINT',
  'VIDEO',
] as const;

export const simJobSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  aspectRatio: z.string().regex(/^\d{1,5}:\d{1,5}$/),
  quality: qualitySchema,
  createdAt: z.number(),
  startsAt: z.number(),
  endsAt: z.number(),
  failAt: z.number().optional(),
  failReason: z.string(),
  cancelledAt: z.number().optional(),
  /** Relay jobs make grids of four; a v7 job is one image. */
  grid: z.boolean().optional(),
  kind: z.enum(SIM_KINDS).optional(),
  /** An action's change to the picture of its parent (`parentId`). */
  edit: simEditSchema.optional(),
  /** Which of the parent grid's four images the edit starts from (absent: the parent's single image). */
  sourceTile: z.number().int().min(1).max(4).optional(),
  /** What the prompt's parameters and image prompts do to the painting. */
  style: z
    .object({
      stylize: z.number().optional(),
      chaos: z.number().optional(),
      weird: z.number().optional(),
      no: z.array(z.string()).optional(),
      tint: z.tuple([z.number(), z.number(), z.number()]).optional(),
    })
    .optional(),
  /** A describe job's answer, ready when it finishes. */
  descriptions: z.array(z.string()).optional(),
  /** The whole prompt as submitted, parameters included (the relay's finalPrompt). */
  finalPrompt: z.string().optional(),
  /** Seeds the picture: a grid's tiles add "#1".."#4"; an upscale is one such tile. */
  seed: z.string().optional(),
  /** A variation's wobble: the same scene, slightly moved. */
  wobble: z.string().optional(),
  parentId: z.string().optional(),
  /** Where a relay task's changes are posted (its notifyHook), kept across restarts. */
  notifyHook: z.string().optional(),
});
export type SimJob = z.infer<typeof simJobSchema>;

export interface SimJobPersistence {
  loadNewest(limit: number): SimJob[];
  save(job: SimJob): void;
  close(): void;
}

export function sqliteSimPersistence(file: string): SimJobPersistence {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS sim_jobs (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT NOT NULL)');
  const upsert = db.prepare(
    'INSERT INTO sim_jobs (id, created_at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
  );
  const newest = db.prepare('SELECT body FROM sim_jobs ORDER BY created_at DESC LIMIT ?');
  const prune = db.prepare(
    'DELETE FROM sim_jobs WHERE id NOT IN (SELECT id FROM sim_jobs ORDER BY created_at DESC LIMIT ?)',
  );
  return {
    loadNewest(limit) {
      prune.run(limit);
      return newest
        .all(limit)
        .map((row) => simJobSchema.safeParse(JSON.parse(z.object({ body: z.string() }).parse(row).body)))
        .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
        .reverse();
    },
    save(job) {
      upsert.run(job.id, Math.round(job.createdAt), JSON.stringify(job));
    },
    close() {
      db.close();
    },
  };
}
