// Paints the simulator's pictures and clips on worker threads (render-worker.ts), so that a
// render of seconds never holds up the API server that shares the process with the simulator.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SimJobView } from './engine';
import { type JobLookup, renderPicture } from './picture';
import { renderClip } from './video';

/**
 * Threads in a pool: one per spare core, at most two. Never more than the cores less one, which
 * stays with the main thread's requests; two where the cores allow, so that a clip (seconds of
 * work) does not hold up the pictures and previews asked for behind it. More would only contend
 * with sharp, which encodes a clip's frames on libuv's threads.
 */
export const DEFAULT_RENDER_THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));

/**
 * How many ancestors a task carries. A picture reads at most 12 (picture.ts's MAX_DEPTH); a
 * clip reads the clips it extends (video.ts's MAX_CHAIN, 12) and then the first one's picture.
 */
const PICTURE_ANCESTORS = 12;
const CLIP_ANCESTORS = 24;

export type RenderKind = 'picture' | 'clip';

/** What the main thread posts to a worker: a job and, as plain data, the ancestors it reads. */
export interface RenderTask {
  id: number;
  kind: RenderKind;
  job: SimJobView;
  ancestors: SimJobView[];
  scale: number;
}

/** What a worker posts back; `bytes` is moved (transferred), not copied. */
export type RenderReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; bytes: ArrayBuffer }
  | { type: 'failed'; id: number; message: string };

export interface RenderPoolOptions {
  /** Worker threads at most; started when first needed. */
  size?: number;
  /** The worker's module: a .ts file is loaded through tsx, anything else by Node itself. */
  entry?: URL;
  /** Told once if no worker can start, when the pool falls back to rendering on the main thread. */
  warn?: (error: unknown) => void;
}

interface Pending {
  task: RenderTask;
  resolve: (bytes: Buffer) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  /** Whether the worker loaded its module: until then, its death means it could not start. */
  ready: boolean;
  current?: Pending | undefined;
  error?: Error;
}

export class RenderPool {
  readonly #size: number;
  readonly #entry: URL;
  readonly #warn: (error: unknown) => void;
  readonly #threads = new Set<Thread>();
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #inline = false;
  #closed = false;

  constructor(options: RenderPoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? DEFAULT_RENDER_THREADS);
    this.#entry = options.entry ?? workerEntry();
    this.#warn = options.warn ?? logFallback;
  }

  /** renderPicture (picture.ts) on a worker thread: the same PNG, byte for byte. */
  renderPicture(job: SimJobView, lookup: JobLookup, scale: number): Promise<Buffer> {
    return this.#render('picture', job, ancestorsOf(job, lookup, PICTURE_ANCESTORS), scale);
  }

  /** renderClip (video.ts) on a worker thread: the same WebM, byte for byte. */
  renderClip(job: SimJobView, lookup: JobLookup, scale: number): Promise<Buffer> {
    return this.#render('clip', job, ancestorsOf(job, lookup, CLIP_ANCESTORS), scale);
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#threads.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends the workers; what is queued or rendering is rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(closedError());
    const threads = [...this.#threads];
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
    for (const thread of threads) this.#forget(thread)?.reject(closedError());
  }

  #render(kind: RenderKind, job: SimJobView, ancestors: SimJobView[], scale: number): Promise<Buffer> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { id: this.#nextId++, kind, job, ancestors, scale }, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      if (this.#inline) {
        const pending = this.#queue.shift();
        if (pending) renderInline(pending);
        continue;
      }
      const thread = [...this.#threads].find((candidate) => !candidate.current) ?? this.#spawn();
      // All busy: the next reply dispatches again. (A worker that could not be made at all has
      // switched the pool to inline, which the loop's next turn handles.)
      if (!thread) {
        if (this.#inline) continue;
        return;
      }
      const pending = this.#queue.shift();
      if (!pending) return;
      thread.current = pending;
      // A busy worker keeps the process alive (a script awaiting a render must not exit); an idle
      // one does not, so a pool nobody closed never holds up a test run or a shutdown.
      thread.worker.ref();
      thread.worker.postMessage(pending.task);
    }
  }

  #spawn(): Thread | undefined {
    if (this.#threads.size >= this.#size) return undefined;
    let worker: Worker;
    try {
      worker = startWorker(this.#entry);
    } catch (error) {
      this.#cannotStart(error);
      return undefined;
    }
    const thread: Thread = { worker, ready: false };
    worker.unref();
    worker.on('message', (reply: RenderReply) => this.#onReply(thread, reply));
    // Without a listener, a worker's uncaught error would be thrown on the main thread.
    worker.on('error', (error) => {
      thread.error = error;
    });
    worker.on('exit', (code) => this.#onExit(thread, code));
    this.#threads.add(thread);
    return thread;
  }

  #onReply(thread: Thread, reply: RenderReply): void {
    if (reply.type === 'ready') {
      thread.ready = true;
      return;
    }
    const pending = thread.current;
    if (pending?.task.id !== reply.id) return;
    thread.current = undefined;
    thread.worker.unref();
    if (reply.type === 'done') pending.resolve(Buffer.from(reply.bytes));
    else pending.reject(new Error(`The render failed: ${reply.message}`));
    this.#dispatch();
  }

  #onExit(thread: Thread, code: number): void {
    const pending = this.#forget(thread);
    if (this.#closed) {
      pending?.reject(closedError());
      return;
    }
    if (!thread.ready) {
      // Not a render's fault: that render (and every other) is done on the main thread instead.
      this.#cannotStart(thread.error ?? new Error(`The render worker exited with code ${code} before it was ready`));
      if (pending) renderInline(pending);
      return;
    }
    // A crash is that render's failure only: the next task starts a fresh worker.
    pending?.reject(new Error(`The render worker stopped: ${thread.error?.message ?? `exit code ${code}`}`));
    this.#dispatch();
  }

  /** Drops a thread that has exited; answers the task it was rendering, if any. */
  #forget(thread: Thread): Pending | undefined {
    this.#threads.delete(thread);
    const pending = thread.current;
    thread.current = undefined;
    return pending;
  }

  #cannotStart(error: unknown): void {
    if (!this.#inline) {
      this.#inline = true;
      this.#warn(error);
    }
    this.#dispatch();
  }
}

let shared: RenderPool | undefined;
let holders = 0;

/** The process's pool, made on first use: every simulator in the process shares its threads. */
export function sharedRenderPool(): RenderPool {
  if (!shared || shared.closed) shared = new RenderPool();
  return shared;
}

/**
 * Holds the shared pool for a running simulator; the last holder to let go closes it, so that a
 * stopped simulator leaves no thread behind. (Idle workers never keep the process alive anyway.)
 */
export function holdSharedRenderPool(): () => Promise<void> {
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    holders--;
    if (holders > 0 || !shared) return;
    const pool = shared;
    shared = undefined;
    await pool.close();
  };
}

/**
 * The job's ancestors, nearest first, read through `lookup` up to `limit` (or a cycle): all that
 * a render can read, so that the worker's lookup answers exactly what the engine's would.
 */
export function ancestorsOf(job: SimJobView, lookup: JobLookup, limit: number): SimJobView[] {
  const seen = new Set([job.id]);
  const ancestors: SimJobView[] = [];
  let current = job;
  while (ancestors.length < limit && current.parentId && !seen.has(current.parentId)) {
    const parent = lookup(current.parentId);
    if (!parent) break;
    seen.add(current.parentId);
    ancestors.push(parent);
    current = parent;
  }
  return ancestors;
}

/** A lookup over a task's jobs: what the worker, or the inline fallback, renders from. */
export function lookupIn(job: SimJobView, ancestors: readonly SimJobView[]): JobLookup {
  const byId = new Map<string, SimJobView>([job, ...ancestors].map((each) => [each.id, each]));
  return (id) => byId.get(id);
}

/**
 * Where the worker's module is. From the sources (tsx in development, vitest in tests) it is the
 * .ts file beside this one. Built (scripts/build-server.mjs), it is dist/server/render-worker.js,
 * an entry point of its own, while this module may have been bundled into dist/server/index.js or
 * into one of the chunks in dist/server/chunks/: so it is looked for here and one folder up.
 */
export function workerEntry(moduleUrl: string = import.meta.url): URL {
  if (isTypeScript(moduleUrl)) return new URL('./render-worker.ts', moduleUrl);
  const beside = new URL('./render-worker.js', moduleUrl);
  const above = new URL('../render-worker.js', moduleUrl);
  return !existsSync(beside) && existsSync(above) ? above : beside;
}

function isTypeScript(url: URL | string): boolean {
  return /\.[cm]?ts$/.test(new URL(url).pathname);
}

/**
 * A worker on `entry`. Node loads a built .js entry itself. A .ts one needs tsx, and on Node 20 a
 * worker's `execArgv: ['--import', 'tsx']` does not help: there, module hooks registered in a
 * worker never apply to it (Node fixed that in 22.2), so the entry, in our "type": "module"
 * package, fails with ERR_UNKNOWN_FILE_EXTENSION. tsx's require hook does work in a worker: a
 * small CommonJS script registers it and requires the entry (tsx compiles it to CommonJS), with
 * the repository's tsconfig.json named, so the `@shared/...` alias resolves whatever the cwd.
 */
function startWorker(entry: URL): Worker {
  if (!isTypeScript(entry)) return new Worker(entry);
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const tsconfig = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
  const bootstrap = [
    `process.env.TSX_TSCONFIG_PATH ??= ${JSON.stringify(tsconfig)};`,
    `require(${JSON.stringify(tsx)}).register();`,
    `require(${JSON.stringify(fileURLToPath(entry))});`,
  ].join('\n');
  // None of the parent's flags: under tsx they load tsx's hooks a second time, under vitest they
  // are vitest's; the bootstrap registers all the worker needs.
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

/** The inline fallback: the same render, on the main thread, as before the pool existed. */
function renderInline({ task, resolve, reject }: Pending): void {
  const lookup = lookupIn(task.job, task.ancestors);
  const render = async () =>
    task.kind === 'clip' ? renderClip(task.job, lookup, task.scale) : renderPicture(task.job, lookup, task.scale);
  render().then(resolve, reject);
}

function closedError(): Error {
  return new Error('The render pool is closed');
}

function logFallback(error: unknown): void {
  // The simulator is given no logger: one of the same kind, loaded only for this line.
  void import('../logger').then(({ createLogger }) =>
    createLogger().warn({ err: error }, 'the render worker could not start: rendering images on the main thread'),
  );
}
