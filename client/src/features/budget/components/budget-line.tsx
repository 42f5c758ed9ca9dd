// A quiet line under the header: upstream calls in the last minute against the key's limit,
// and how many submissions wait for budget. Its line is held empty until there is something
// to say (or the page knows it may ask), so that nothing below it moves when it arrives.
import { useQuery } from '@tanstack/react-query';
import { budgetQueryOptions } from '../api/get-budget';

export function BudgetLine({ enabled = true }: { enabled?: boolean }) {
  const { data } = useQuery({ ...budgetQueryOptions(), enabled });
  if (!data) return <p className="budget-line" aria-hidden="true" />;
  const window = data.window_s === 60 ? 'minute' : `${data.window_s} s`;
  const parts = [`Upstream: ${data.used} of ${data.limit} requests in the last ${window}`];
  if (data.queue_length > 0) parts.push(`${data.queue_length} queued`);
  if (data.paused_for_s) parts.push(`paused ${data.paused_for_s} s by the upstream`);
  return (
    <p className="budget-line" title="The server spends one API key's request budget for everyone">
      {parts.join(' · ')}
    </p>
  );
}
