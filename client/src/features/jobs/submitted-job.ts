// What the browser remembers about a job it submitted: the options the server does not echo.
import type { AspectRatio, Quality } from '../../../../shared/schemas/imagine';

export interface SubmittedJob {
  jobId: string;
  prompt: string;
  aspectRatio: AspectRatio;
  quality: Quality;
  submittedAt: number;
}
