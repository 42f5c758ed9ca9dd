// What the gallery is narrowed to, and its two spellings: the page's URL (`?q=fox&output=video&fav=1`,
// so that a view can be bookmarked) and GET /api/jobs's query (shared/schemas/job.ts,
// jobListQuerySchema). Plain code without zod: the first visit's bundle reads the URL with it.

import {
  JOB_OUTPUTS,
  JOB_STATUSES,
  type JobOutput,
  type JobStatus,
  SEARCH_MAX_LENGTH,
} from '@shared/schemas/job-values';
import type { ParamKey } from '@shared/schemas/params-values';

/** The parameters the filter panel offers ("made with --sref", …). */
export const FILTER_PARAMS = ['sref', 'oref', 'tile', 'raw', 'seed'] as const satisfies readonly ParamKey[];
export type FilterParam = (typeof FILTER_PARAMS)[number];

export interface JobFilter {
  /** As typed (a trailing space is kept while typing); trimmed on its way to the server. */
  q?: string;
  status?: JobStatus[];
  output?: JobOutput[];
  param?: FilterParam[];
  ar?: string;
  /** Days as YYYY-MM-DD, both inclusive, in the reader's own time zone. */
  from?: string;
  to?: string;
  favourite?: boolean;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const RATIO = /^[1-9]\d{0,4}:[1-9]\d{0,4}$/;

function listOf<T extends string>(text: string | null, allowed: readonly T[]): T[] | undefined {
  if (!text) return undefined;
  const wanted = new Set(text.split(','));
  // In the allowed order, so that one set of choices makes one URL and one cache entry.
  const list = allowed.filter((value) => wanted.has(value));
  return list.length > 0 ? list : undefined;
}

const dayOf = (text: string | null) => (text && isDay(text) ? text : undefined);

/** A filter from the page's URL; anything it cannot use (a hand-edited `status=nonsense`) is left out. */
export function readFilter(params: URLSearchParams): JobFilter {
  const filter: JobFilter = {};
  const q = params.get('q');
  if (q) filter.q = q.slice(0, SEARCH_MAX_LENGTH);
  const status = listOf(params.get('status'), JOB_STATUSES);
  if (status) filter.status = status;
  const output = listOf(params.get('output'), JOB_OUTPUTS);
  if (output) filter.output = output;
  const param = listOf(params.get('param'), FILTER_PARAMS);
  if (param) filter.param = param;
  const ar = params.get('ar');
  if (ar && RATIO.test(ar)) filter.ar = ar;
  const from = dayOf(params.get('from'));
  if (from) filter.from = from;
  const to = dayOf(params.get('to'));
  if (to) filter.to = to;
  if (params.get('fav') === '1') filter.favourite = true;
  return filter;
}

/** The page's URL query for a filter; `params` keeps whatever else the URL holds. */
export function writeFilter(params: URLSearchParams, filter: JobFilter): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const key of ['q', 'status', 'output', 'param', 'ar', 'from', 'to', 'fav']) next.delete(key);
  const clean = normaliseFilter(filter);
  if (clean.q && filter.q) next.set('q', filter.q);
  if (clean.status) next.set('status', clean.status.join(','));
  if (clean.output) next.set('output', clean.output.join(','));
  if (clean.param) next.set('param', clean.param.join(','));
  if (clean.ar) next.set('ar', clean.ar);
  if (clean.from) next.set('from', clean.from);
  if (clean.to) next.set('to', clean.to);
  if (clean.favourite) next.set('fav', '1');
  return next;
}

/**
 * The filter as the list's cache key holds it: the prompt's words trimmed, lists in one
 * order, nothing empty. Two spellings of one view share one cache entry.
 */
export function normaliseFilter(filter: JobFilter): JobFilter {
  const clean: JobFilter = {};
  const q = filter.q?.trim();
  if (q) clean.q = q;
  const status = JOB_STATUSES.filter((value) => filter.status?.includes(value));
  if (status.length > 0) clean.status = status;
  const output = JOB_OUTPUTS.filter((value) => filter.output?.includes(value));
  if (output.length > 0) clean.output = output;
  const param = FILTER_PARAMS.filter((value) => filter.param?.includes(value));
  if (param.length > 0) clean.param = param;
  if (filter.ar) clean.ar = filter.ar;
  if (filter.from) clean.from = filter.from;
  if (filter.to) clean.to = filter.to;
  if (filter.favourite) clean.favourite = true;
  return clean;
}

export const isFiltered = (filter: JobFilter): boolean => Object.keys(normaliseFilter(filter)).length > 0;

/** How many of the panel's filters are set (everything but the search words). */
export function panelFilterCount(filter: JobFilter): number {
  const { q: _words, ...rest } = normaliseFilter(filter);
  return Object.keys(rest).length;
}

function partsOf(day: string): [year: number, month: number, date: number] | undefined {
  const match = DAY.exec(day);
  return match ? [Number(match[1]), Number(match[2]) - 1, Number(match[3])] : undefined;
}

/** A real day written YYYY-MM-DD (not 2024-02-30). */
function isDay(text: string): boolean {
  const parts = partsOf(text);
  if (!parts) return false;
  const [year, month, date] = parts;
  const time = new Date(year, month, date);
  return time.getFullYear() === year && time.getMonth() === month && time.getDate() === date;
}

/** Local midnight of a day (one readFilter let through), `offset` days on. */
function startOfDay(day: string, offset: number): string {
  const [year, month, date] = partsOf(day) ?? [1970, 0, 1];
  return new Date(year, month, date + offset).toISOString();
}

/**
 * GET /api/jobs's query for a filter. The days are the reader's: `from` is the start of the
 * first day and `to` the start of the day after the last (the server takes `to` as an
 * exclusive instant), both as ISO instants, so that "to 3 May" keeps all of 3 May wherever
 * the reader is, not only the part before midnight UTC.
 */
export function filterQuery(filter: JobFilter): URLSearchParams {
  const clean = normaliseFilter(filter);
  const query = new URLSearchParams();
  if (clean.q) query.set('q', clean.q);
  if (clean.status) query.set('status', clean.status.join(','));
  if (clean.output) query.set('output', clean.output.join(','));
  if (clean.param) query.set('param', clean.param.join(','));
  if (clean.ar) query.set('ar', clean.ar);
  if (clean.from) query.set('from', startOfDay(clean.from, 0));
  if (clean.to) query.set('to', startOfDay(clean.to, 1));
  if (clean.favourite) query.set('favourite', '1');
  return query;
}
