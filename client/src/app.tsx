// The page: sign-in when the server asks for it; otherwise the prompt form above the gallery;
// a footer that points scripts at the API's reference.

import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { LazyAccountsPanel } from './features/accounts/components/accounts-box';
import { BudgetLine } from './features/budget/components/budget-line';
import { galleryBox } from './features/jobs/components/gallery-box';
import { promptBox } from './features/jobs/components/prompt-box';
import type { IncomingImage } from './features/jobs/hooks/use-image-tray';
import type { Draft } from './features/jobs/utils/draft';
import { LazyKeysPanel } from './features/keys/components/keys-box';
import { sessionQueryOptions, useSignOut } from './features/session/api/session';
import { SignIn } from './features/session/components/sign-in';
import { useLazyModule } from './lib/lazy-module';

export function App() {
  const session = useQuery(sessionQueryOptions());
  const signOut = useSignOut();
  const PromptForm = useLazyModule(promptBox)?.PromptForm;
  const Gallery = useLazyModule(galleryBox)?.Gallery;
  // "Use again" (and a description's "Use this prompt") remounts the form with a draft.
  const [draft, setDraft] = useState<{ key: number; values?: Draft }>({ key: 0 });
  // "Use as image prompt" hands the form an image and keeps what it holds.
  const [incoming, setIncoming] = useState<IncomingImage>();
  const [keysOpen, setKeysOpen] = useState(false);
  const [accountsOpen, setAccountsOpen] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const signedIn = session.data?.signed_in === true;

  const handleUseAgain = (values: Draft) => {
    setDraft((current) => ({ key: current.key + 1, values }));
    form.current?.scrollIntoView?.({ behavior: 'smooth' });
  };
  const handleUseAsImage = (image: IncomingImage['image']) => {
    setIncoming((current) => ({ id: (current?.id ?? 0) + 1, image }));
    form.current?.scrollIntoView?.({ behavior: 'smooth' });
    // The reader goes on in the prompt box (from the viewer, which has closed, nothing else has the focus).
    form.current?.querySelector('textarea')?.focus({ preventScroll: true });
  };

  return (
    <div className="shell">
      <header className="top">
        <h1>mj-studio</h1>
        <p className="tagline">Midjourney through your own server</p>
        {/* Its line is kept while the session loads: most visitors are signed in straight away. */}
        {signedIn || session.isPending ? <BudgetLine enabled={signedIn} /> : null}
        {signedIn ? (
          <button type="button" className="quiet" aria-expanded={keysOpen} onClick={() => setKeysOpen((open) => !open)}>
            API keys
          </button>
        ) : null}
        {signedIn ? (
          <button
            type="button"
            className="quiet"
            aria-expanded={accountsOpen}
            onClick={() => setAccountsOpen((open) => !open)}
          >
            Accounts
          </button>
        ) : null}
        {signedIn && session.data?.required ? (
          <button type="button" className="quiet" onClick={() => signOut.mutate()}>
            Sign out
          </button>
        ) : null}
      </header>
      <main>
        {session.isPending || (signedIn && !(PromptForm && Gallery)) ? <p className="empty">Loading…</p> : null}
        {session.isError ? (
          <p className="form-error" role="alert">
            Could not reach the server: {session.error.message}
          </p>
        ) : null}
        {session.data && !signedIn ? <SignIn /> : null}
        {signedIn && keysOpen ? <LazyKeysPanel onClose={() => setKeysOpen(false)} /> : null}
        {signedIn && accountsOpen ? <LazyAccountsPanel onClose={() => setAccountsOpen(false)} /> : null}
        {signedIn && PromptForm && Gallery ? (
          <>
            <PromptForm
              ref={form}
              key={draft.key}
              initial={draft.values}
              incomingImage={incoming}
              autoFocus={draft.key > 0}
            />
            <Gallery onUseAgain={handleUseAgain} onUseAsImage={handleUseAsImage} />
          </>
        ) : null}
      </main>
      <footer className="foot">
        <a href="/api/docs">API reference</a>
        <a href="/api/openapi.json">OpenAPI document</a>
      </footer>
    </div>
  );
}
