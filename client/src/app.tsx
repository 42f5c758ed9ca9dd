// The page: the prompt form above the gallery of the owner's jobs.
import { useState } from 'react';
import type { ImagineRequest } from '../../shared/schemas/imagine';
import { BudgetLine } from './features/budget/components/budget-line';
import { Gallery } from './features/jobs/components/gallery';
import { PromptForm } from './features/jobs/components/prompt-form';

export function App() {
  // "Use again" remounts the form with a job's prompt and options.
  const [draft, setDraft] = useState<{ key: number; values?: ImagineRequest }>({ key: 0 });

  const handleUseAgain = (values: ImagineRequest) => {
    setDraft((current) => ({ key: current.key + 1, values }));
    document.querySelector('.prompt-form')?.scrollIntoView?.({ behavior: 'smooth' });
  };

  return (
    <div className="shell">
      <header className="top">
        <h1>mj-studio</h1>
        <p className="tagline">Midjourney through your own server</p>
        <BudgetLine />
      </header>
      <main>
        <PromptForm key={draft.key} initial={draft.values} autoFocus={draft.key > 0} />
        <Gallery onUseAgain={handleUseAgain} />
      </main>
    </div>
  );
}
