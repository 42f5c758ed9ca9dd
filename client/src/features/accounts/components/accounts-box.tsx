// The accounts panel as a chunk of its own, loaded when first opened, like the keys panel: an
// operator's view that most visits never open, and no room for it in the first visit's budget.
import { lazyModule, useLazyModule } from '@/lib/lazy-module';
import type { AccountsPanelProps } from './accounts-panel';

export const accountsBox = lazyModule(() => import('./accounts-panel'));

export function LazyAccountsPanel(props: AccountsPanelProps) {
  const AccountsPanel = useLazyModule(accountsBox)?.AccountsPanel;
  return AccountsPanel ? <AccountsPanel {...props} /> : <p className="empty">Loading…</p>;
}
