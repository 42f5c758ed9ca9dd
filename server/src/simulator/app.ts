// The built-in simulator's HTTP face: mounts the v7 contract and the images under /v1, the
// midjourney-proxy relay under /mj and the paid APIs' protocols under /useapi, /legnext and
// /apiframe, then answers anything else in one JSON error shape.
import express, { type NextFunction, type Request, type Response } from 'express';
import { apiframeRoutes } from './apiframe-routes';
import type { SimulatorEngine } from './engine';
import { imageRoutes } from './image-routes';
import { legnextRoutes } from './legnext-routes';
import type { SimulatorNotifier } from './notifier';
import { relayRoutes } from './relay-routes';
import { useapiRoutes } from './useapi-routes';
import { v7Routes } from './v7-routes';

export function createSimulatorApp(engine: SimulatorEngine, notifier?: SimulatorNotifier): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use('/v1', v7Routes(engine, notifier));
  app.use('/v1', imageRoutes(engine));
  app.use('/mj', relayRoutes(engine, notifier));
  app.use('/useapi', useapiRoutes(engine, notifier));
  app.use('/legnext', legnextRoutes(engine, notifier));
  app.use('/apiframe', apiframeRoutes(engine, notifier));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'Not found' });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error === 'object' && error && 'status' in error ? Number(error.status) : 500;
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: 'Bad request' });
  });
  return app;
}
