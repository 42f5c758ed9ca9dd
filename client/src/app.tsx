// The page: sign-in when the server asks for it; otherwise the prompt form above the gallery.

import type { ImagineRequest } from '@shared/schemas/imagine';
import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { BudgetLine } from './features/budget/components/budget-line';
import { Gallery } from './features/jobs/components/gallery';
import { PromptForm } from './features/jobs/components/prompt-form';
import { sessionQueryOptions, useSignOut } from './features/session/api/session';
import { SignIn } from './features/session/components/sign-in';

export function App() {
  const session = useQuery(sessionQueryOptions());
  const signOut = useSignOut();
  // "Use again" remounts the form with a job's prompt and options.
  const [draft, setDraft] = useState<{ key: number; values?: ImagineRequest }>({ key: 0 });
  const form = useRef<HTMLFormElement>(null);
  const signedIn = session.data?.signed_in === true;

  const handleUseAgain = (values: ImagineRequest) => {
    setDraft((current) => ({ key: current.key + 1, values }));
    form.current?.scrollIntoView?.({ behavior: 'smooth' });
  };

  return (
    <div className="shell">
      <header className="top">
        <h1>mj-studio</h1>
        <p className="tagline">Midjourney through your own server</p>
        {/* Its line is kept while the session loads: most visitors are signed in straight away. */}
        {signedIn || session.isPending ? <BudgetLine enabled={signedIn} /> : null}
        {signedIn && session.data?.required ? (
          <button type="button" className="quiet" onClick={() => signOut.mutate()}>
            Sign out
          </button>
        ) : null}
      </header>
      <main>
        {session.isPending ? <p className="empty">Loading…</p> : null}
        {session.isError ? (
          <p className="form-error" role="alert">
            Could not reach the server: {session.error.message}
          </p>
        ) : null}
        {session.data && !signedIn ? <SignIn /> : null}
        {signedIn ? (
          <>
            <PromptForm ref={form} key={draft.key} initial={draft.values} autoFocus={draft.key > 0} />
            <Gallery onUseAgain={handleUseAgain} />
          </>
        ) : null}
      </main>
    </div>
  );
}
