// Runs the real server (the compiled file npm start runs) as a child process, in simulator mode
// unless told otherwise, and finds the port it chose from its start-up log line.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  baseUrl: string;
  logs: string[];
  /** SIGTERM and wait; answers the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no clean-up at all, as in a crash. */
  kill(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  if (!existsSync(path.join(ROOT, 'dist/server/index.js'))) {
    throw new Error('No server build: run these tests through `npm test` or `npm run test:e2e`, which build it first');
  }
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', 'dist/server/index.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MIDJOURNEY_API_KEY: '',
      PORT: '0',
      HOST: '127.0.0.1',
      SIM_TIME_FACTOR: '0.15',
      SIM_FAILURE_RATE: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk) => stderr.push(String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The server did not start: ${stderr.join('')}`)), 30_000);
    void exited.then((code) => reject(new Error(`The server exited with ${code}: ${stderr.join('')}`)));
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (line) => {
      logs.push(line);
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
