import { expect, test } from 'vitest';
import { AccountHealth } from '../../server/src/accounts/account-health';
import { UpstreamError } from '../../server/src/errors';

const clock = () => {
  const state = { now: 1_000_000 };
  return { state, now: () => state.now };
};

test('an account out of credits goes down at once, and each time it goes down again before a submission succeeds, the probe waits twice as long', () => {
  const { state, now } = clock();
  const health = new AccountHealth(true, now);
  const noCredits = new UpstreamError('account', 'out of credits');

  const probes: number[] = [];
  for (let round = 0; round < 4; round++) {
    health.failed(noCredits, 'submit');
    probes.push((health.nextProbeAt ?? 0) - state.now);
    state.now = health.nextProbeAt ?? state.now;
    health.succeeded('probe');
  }
  health.succeeded('submit');
  health.failed(noCredits, 'submit');

  expect(probes).toEqual([5_000, 10_000, 20_000, 40_000]);
  expect((health.nextProbeAt ?? 0) - state.now).toBe(5_000);
  expect(health.state).toBe('down');
  expect(health.reason).toBe('out of credits');
});

test('one time-out makes an account suspect (no new submissions), three in a row take it down, a good answer clears it', () => {
  const { now } = clock();
  const health = new AccountHealth(true, now);
  const timeout = new UpstreamError('timeout', 'The upstream did not answer within 15000 ms');

  health.failed(timeout, 'check');
  const afterOne = { state: health.state, inRotation: health.inRotation };
  health.succeeded('check');
  const cleared = health.state;
  health.failed(timeout, 'check');
  health.failed(timeout, 'submit');
  health.failed(timeout, 'check');

  expect(afterOne).toEqual({ state: 'suspect', inRotation: false });
  expect(cleared).toBe('ready');
  expect(health.state).toBe('down');
  expect(health.reason).toMatch(/^3 calls in a row failed/);
});

test("a refusal of one job's content says nothing of the account and is never its last error", () => {
  const health = new AccountHealth(true, clock().now);

  health.failed(new UpstreamError('refused', 'The prompt was refused: banned word "secret-project"'), 'submit');
  health.failed(new UpstreamError('rejected', 'bad request'), 'submit');

  expect(health.state).toBe('ready');
  expect(health.lastError).toBeUndefined();
});

test('six 429s in a row take an account out of rotation; a switched-off account is never in rotation', () => {
  const health = new AccountHealth(true, clock().now);
  const off = new AccountHealth(false, clock().now);

  for (let i = 0; i < 6; i++) health.failed(new UpstreamError('rate_limited', 'slow down'), 'check');

  expect(health.state).toBe('down');
  expect(health.reason).toBe('6 calls in a row answered 429');
  expect(off.state).toBe('disabled');
  expect(off.inRotation).toBe(false);
});
