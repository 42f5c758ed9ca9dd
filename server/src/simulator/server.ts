// Starts the simulator on its own loopback port, so the server reaches it over real HTTP
// through exactly the adapter it would use for the real upstream.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp } from './app';
import type { SimulatorConfig } from './config';
import { type EngineDeps, SimulatorEngine } from './engine';
import { type NotifierOptions, SimulatorNotifier } from './notifier';
import { holdSharedRenderPool } from './render-pool';

export interface RunningSimulator {
  baseUrl: string;
  engine: SimulatorEngine;
  notifier: SimulatorNotifier | undefined;
  close(): Promise<void>;
}

export async function startSimulator(
  config: SimulatorConfig,
  options: { port?: number; deps?: EngineDeps; notify?: NotifierOptions } = {},
): Promise<RunningSimulator> {
  const engine = new SimulatorEngine(config, options.deps);
  const notifier = options.notify ? new SimulatorNotifier(engine, options.notify) : undefined;
  const app = createSimulatorApp(engine, notifier);
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const { port: actualPort } = server.address() as AddressInfo;
  // The image routes paint on the shared pool's worker threads; close() lets go of them.
  const releaseRenderPool = holdSharedRenderPool();
  if (notifier) notifier.imageBase = `http://127.0.0.1:${actualPort}`;
  return {
    baseUrl: `http://127.0.0.1:${actualPort}/v1`,
    engine,
    notifier,
    close: async () => {
      await new Promise<void>((resolve) => {
        notifier?.stop();
        server.closeAllConnections();
        server.close(() => {
          options.deps?.persistence?.close();
          resolve();
        });
      });
      await releaseRenderPool();
    },
  };
}
