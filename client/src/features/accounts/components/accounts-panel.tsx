// The accounts panel: each upstream account of the pool with its state (and why it is out of
// rotation), its request budget in use, its running and queued work and its last error,
// refreshed while the panel is open (api/list-accounts.ts).
import { useId } from 'react';
import { usePanelFocus } from '@/lib/use-panel-focus';
import { ACCOUNTS_REFRESH_MS, useAccounts } from '../api/list-accounts';
import { AccountRow } from './account-row';

export interface AccountsPanelProps {
  onClose: () => void;
}

export function AccountsPanel({ onClose }: AccountsPanelProps) {
  const accounts = useAccounts();
  const titleId = useId();
  const title = usePanelFocus<HTMLHeadingElement>();

  const list = accounts.data?.accounts;
  const inRotation = list?.filter((account) => account.state === 'ready' || account.state === 'paused').length;

  return (
    <section className="prompt-form keys-panel accounts-panel" aria-labelledby={titleId}>
      <div className="keys-head">
        <h2 id={titleId} ref={title} tabIndex={-1}>
          Accounts
        </h2>
        <button type="button" className="quiet" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="keys-usage">
        The upstream accounts this server spreads jobs over, refreshed every {ACCOUNTS_REFRESH_MS / 1000} seconds while
        this panel is open.
      </p>

      {accounts.isPending ? <p className="hint">Loading accounts…</p> : null}
      {accounts.isError ? (
        <div className="accounts-error">
          <p className="form-error" role="alert">
            Could not load the accounts: {accounts.error.message}
          </p>
          <button type="button" onClick={() => accounts.refetch()} disabled={accounts.isFetching}>
            Try again
          </button>
        </div>
      ) : null}
      {list && list.length === 0 ? <p className="hint">No accounts.</p> : null}
      {list && list.length > 0 ? (
        <>
          <p className="hint">
            {inRotation} of {list.length} {list.length === 1 ? 'account' : 'accounts'} in rotation
          </p>
          <div className="accounts-scroll">
            <table className="accounts-table">
              <caption className="visually-hidden">Upstream accounts</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col">Budget in use</th>
                  <th scope="col">Running</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {list.map((account) => (
                  <AccountRow key={account.name} account={account} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
