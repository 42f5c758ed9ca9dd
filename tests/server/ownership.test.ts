import { jobListSchema } from '@shared/schemas/job';
import request from 'supertest';
import { expect, test } from 'vitest';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

test('the owner cookie is signed, HttpOnly and SameSite=Lax', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).get('/api/jobs');

  const cookie = String(response.headers['set-cookie']);
  expect(cookie).toMatch(/^mj_owner=s%3A/);
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Lax/);
  expect(cookie).toMatch(/Path=\//);
});

test('a second cookie jar cannot list, read, cancel, delete or fetch the images of the first one’s jobs', async () => {
  const { app, agent, jobs } = await buildTestApp();
  const finished = await submitJob(agent, 'finished');
  await jobs.refresh(finished);
  const running = await submitJob(agent, 'running');
  const stranger = request.agent(app);

  const list = jobListSchema.parse((await stranger.get('/api/jobs')).body);
  const answers = [
    await stranger.get(`/api/jobs/${finished}`),
    await stranger.get(`/api/images/${finished}.png`),
    await stranger.post(`/api/jobs/${running}/cancel`),
    await stranger.delete(`/api/jobs/${running}`),
    await stranger.delete(`/api/jobs/${finished}`),
  ];

  expect(list.jobs).toEqual([]);
  expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404]);
  expect(answers.map((answer) => answer.body.error.message)).toEqual([
    'No such job',
    'No such job',
    'No such job',
    'No such job',
    'No such job',
  ]);
  expect((await agent.get(`/api/jobs/${running}`)).body.status).toBe('pending');
  expect((await agent.get(`/api/images/${finished}.png`)).status).toBe(200);
});

test('a forged or tampered owner cookie is ignored and replaced with a new owner', async () => {
  const { app } = await buildTestApp();
  const issued = String((await request(app).get('/api/jobs')).headers['set-cookie']).split(';')[0] ?? '';
  await request(app).post('/api/imagine').set('Cookie', issued).send({ prompt: 'mine' }).expect(202);
  const [, value = ''] = issued.split('=');
  const flipped = value.slice(0, 8) + (value[8] === 'A' ? 'B' : 'A') + value.slice(9);

  const genuine = await request(app).get('/api/jobs').set('Cookie', issued);
  const forged = await request(app).get('/api/jobs').set('Cookie', 'mj_owner=owner-i-guessed-0123456789');
  const tampered = await request(app).get('/api/jobs').set('Cookie', `mj_owner=${flipped}`);

  expect(jobListSchema.parse(genuine.body).jobs).toHaveLength(1);
  expect(jobListSchema.parse(forged.body).jobs).toEqual([]);
  expect(forged.headers['set-cookie']).toBeDefined();
  expect(flipped).not.toBe(value);
  expect(jobListSchema.parse(tampered.body).jobs).toEqual([]);
});

test('a script that keeps its cookie jar is one owner across requests', async () => {
  const { agent } = await buildTestApp();
  const first = await submitJob(agent, 'one');
  const second = await submitJob(agent, 'two');

  const list = jobListSchema.parse((await agent.get('/api/jobs')).body);

  expect(list.jobs.map((job) => job.job_id)).toEqual([second, first]);
});
