// The entry of render-pool.ts's worker threads: paints the pictures and clips it is sent, one
// task at a time, reading a job's ancestors from the task (the engine lives on the main thread).
import { parentPort } from 'node:worker_threads';
import { renderPicture } from './picture';
import { lookupIn, type RenderReply, type RenderTask } from './render-pool';
import { renderClip } from './video';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs only as a worker thread of render-pool.ts');

port.on('message', (task: RenderTask) => {
  void render(task).then(({ reply, transfer }) => port.postMessage(reply, transfer));
});
// Until this arrives, a worker that dies is one that could not start (render-pool.ts then
// renders on the main thread), not one that crashed on a task.
port.postMessage({ type: 'ready' } satisfies RenderReply);

async function render(task: RenderTask): Promise<{ reply: RenderReply; transfer: ArrayBuffer[] }> {
  const lookup = lookupIn(task.job, task.ancestors);
  try {
    const bytes =
      task.kind === 'clip'
        ? await renderClip(task.job, lookup, task.scale)
        : renderPicture(task.job, lookup, task.scale);
    const body = ownArrayBuffer(bytes);
    return { reply: { type: 'done', id: task.id, bytes: body }, transfer: [body] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { reply: { type: 'failed', id: task.id, message }, transfer: [] };
  }
}

/**
 * The bytes in an ArrayBuffer of their own, to be moved to the main thread rather than copied.
 * A small Buffer is a slice of Node's shared pool, which must not (and cannot) be moved: it is
 * copied first, which costs little at that size.
 */
function ownArrayBuffer(bytes: Buffer): ArrayBuffer {
  const whole = bytes.buffer;
  if (whole instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === whole.byteLength) return whole;
  return new Uint8Array(bytes).buffer;
}
