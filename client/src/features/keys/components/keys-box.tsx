// The API keys panel as a chunk of its own, loaded when first opened: few visits open it, and
// the first visit's budget (scripts/check-bundle-size.mjs) has no room to spare for it.
import { lazyModule, useLazyModule } from '@/lib/lazy-module';
import type { KeysPanelProps } from './keys-panel';

export const keysBox = lazyModule(() => import('./keys-panel'));

export function LazyKeysPanel(props: KeysPanelProps) {
  const KeysPanel = useLazyModule(keysBox)?.KeysPanel;
  return KeysPanel ? <KeysPanel {...props} /> : <p className="empty">Loading…</p>;
}
