import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';

const FIRST = 'sim-key-first';
const SECOND = 'sim-key-second';

function simulator() {
  const clock = { now: 5_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({
      apiKey: FIRST,
      keys: [
        { key: FIRST, rateLimit: 2 },
        { key: SECOND, rateLimit: 5 },
      ],
      failureRate: 0,
    }),
    { now: () => clock.now },
  );
  return { engine, app: createSimulatorApp(engine), clock };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

test('each account the simulator plays has its own key and its own rate limit', async () => {
  const { app } = simulator();

  const first = [];
  for (let i = 0; i < 3; i++) first.push((await request(app).get('/v1/jobs/none').set(as(FIRST))).status);
  const second = [];
  for (let i = 0; i < 3; i++) second.push((await request(app).get('/v1/jobs/none').set(as(SECOND))).status);
  const stranger = await request(app).get('/v1/jobs/none').set(as('sim-key-other'));

  expect(first).toEqual([404, 404, 429]);
  expect(second).toEqual([404, 404, 404]);
  expect(stranger.status).toBe(401);
});

test('one account can be made to refuse its key or answer only 429s, in every protocol, while the other works', async () => {
  const { app, engine } = simulator();

  engine.setFault(SECOND, 'refuse');
  const refusedV7 = await request(app).get('/v1/jobs/none').set(as(SECOND));
  const refusedRelay = await request(app).get('/mj/task/1/fetch').set({ 'mj-api-secret': SECOND });
  engine.setFault(SECOND, '429');
  const limited = await request(app).get('/v1/jobs/none').set(as(SECOND));
  const other = await request(app).get('/v1/jobs/none').set(as(FIRST));
  engine.setFault(SECOND, undefined);
  const healed = await request(app).get('/v1/jobs/none').set(as(SECOND));

  expect(refusedV7.status).toBe(401);
  expect(refusedRelay.status).toBe(401);
  expect(limited.status).toBe(429);
  expect(limited.headers['retry-after']).toBe('5');
  expect(other.status).toBe(404);
  expect(healed.status).toBe(404);
});

test('an account made silent never answers, so its callers time out', async () => {
  const { app, engine } = simulator();
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  engine.setFault(SECOND, 'silent');

  const silent = await fetch(`${base}/v1/jobs/none`, { headers: as(SECOND), signal: AbortSignal.timeout(300) }).catch(
    (error: unknown) => error,
  );
  const answered = await fetch(`${base}/v1/jobs/none`, { headers: as(FIRST), signal: AbortSignal.timeout(2_000) });

  expect(silent).toMatchObject({ name: 'TimeoutError' });
  expect(answered.status).toBe(404);
});
