// One account in the accounts table. Its state is a badge with a symbol and a word, never a
// colour alone, and says why an account is out of rotation and when it is next checked.
import type { AccountStatus } from '@shared/schemas/account';

const STATES: Record<AccountStatus['state'], { label: string; symbol: string }> = {
  ready: { label: 'Ready', symbol: '●' },
  paused: { label: 'Paused', symbol: '❚❚' },
  suspect: { label: 'Unsure', symbol: '?' },
  down: { label: 'Down', symbol: '✕' },
  disabled: { label: 'Disabled', symbol: '○' },
};

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function AccountRow({ account }: { account: AccountStatus }) {
  const { label, symbol } = STATES[account.state];
  const window = account.window_s === 60 ? 'minute' : `${account.window_s} s`;
  return (
    <tr className={`account-row account-${account.state}`}>
      <th scope="row" className="account-name">
        {account.name}
      </th>
      <td className="account-kind">{account.kind}</td>
      <td>
        <span className="account-state">
          <span aria-hidden="true">{symbol}</span> {label}
        </span>
        <StateDetail account={account} />
      </td>
      <td className="account-figures">
        {account.used} / {account.limit} per {window}
        {/* The figures say it; the meter shows it at a glance, turning as the budget runs out. */}
        <meter
          className="account-meter"
          min={0}
          max={account.limit}
          low={account.limit * 0.75}
          high={account.limit * 0.9}
          optimum={0}
          value={account.used}
          aria-hidden="true"
        />
      </td>
      <td className="account-figures">
        {account.running} / {account.max_running}
      </td>
      <td className="account-figures">{account.queued}</td>
      <td className="account-error">
        {account.last_error ? (
          <>
            {account.last_error.message}
            <time className="account-detail" dateTime={account.last_error.at}>
              {when.format(new Date(account.last_error.at))}
            </time>
          </>
        ) : (
          <span className="account-none">None</span>
        )}
      </td>
    </tr>
  );
}

function StateDetail({ account }: { account: AccountStatus }) {
  const parts: string[] = [];
  if (account.state === 'down') {
    if (account.reason) parts.push(account.reason);
    if (account.probe_in_s !== undefined) {
      parts.push(account.probe_in_s > 0 ? `next probe in ${account.probe_in_s} s` : 'probing now');
    }
  }
  if (account.state === 'paused' && account.paused_for_s !== undefined) {
    parts.push(`paused ${account.paused_for_s} s by the upstream`);
  }
  if (account.state === 'suspect') {
    parts.push('a call just failed; no new jobs until one succeeds');
    if (account.probe_in_s !== undefined) parts.push(`next check in ${account.probe_in_s} s`);
  }
  if (account.state === 'disabled') parts.push('turned off in the accounts file');
  return parts.length > 0 ? <span className="account-detail">{parts.join(' · ')}</span> : null;
}
