// What the routes and webhooks ask of the scheduler, whichever runs: the one process's own
// (upstream-scheduler.ts) or, with several instances, the shared one (shared-scheduler.ts).
import type { AccountStatus } from '@shared/schemas/account';
import type { Budget } from '@shared/schemas/job';
import type { JobRecord } from '../store/job-store';

export interface Scheduling {
  /** Starts a recorded job (sent at once or queued), or refuses it and forgets it. */
  admit(job: JobRecord): Promise<JobRecord>;
  /** 1-based place in the submission queue. */
  queuePosition(id: string): number | undefined;
  /** When the server will next ask the upstream about this job (or send it, if queued). */
  nextUpdateAt(id: string): number | undefined;
  /** A webhook says this job changed: look soon. */
  nudge(id: string, reason?: 'finish' | 'progress'): void;
  /** Whether the upstream pushes changes (webhooks). */
  readonly pushed: boolean;
  readonly queueLength: number;
  accounts(details?: boolean): AccountStatus[];
  budget(): Budget;
  start(): void;
  stop(): void;
  /** Runs the scheduling loops now (tests; timers do it otherwise). */
  pump(): Promise<void>;
}
