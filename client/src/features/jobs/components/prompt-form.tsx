// The prompt form: validated with the shared schema, disabled while submitting,
// Ctrl/Cmd+Enter submits, a counter against the shared length limit.

import type { ImagineRequest } from '@shared/schemas/imagine';
import { ASPECT_RATIOS, type AspectRatio, PROMPT_MAX_LENGTH, type Quality } from '@shared/schemas/imagine-values';
import { type FormEvent, type KeyboardEvent, type Ref, useId, useRef, useState } from 'react';
import { ApiError, loadContract } from '@/lib/api-client';
import { useSubmitJob } from '../api/submit-job';

const MAIN_RATIOS: readonly AspectRatio[] = ['1:1', '16:9', '4:3', '9:16'];
const MORE_RATIOS = ASPECT_RATIOS.filter((ratio) => !MAIN_RATIOS.includes(ratio));

interface PromptFormProps {
  initial?: ImagineRequest | undefined;
  autoFocus?: boolean;
  ref?: Ref<HTMLFormElement>;
}

export function PromptForm({ initial, autoFocus = false, ref }: PromptFormProps) {
  const [prompt, setPrompt] = useState(initial?.prompt ?? '');
  const [aspectRatio, setAspectRatio] = useState<AspectRatio>(initial?.aspect_ratio ?? '1:1');
  const [quality, setQuality] = useState<Quality>(initial?.quality ?? 'standard');
  const [validationError, setValidationError] = useState<string | null>(null);
  const submit = useSubmitJob();
  // Set while the schema check runs, so that a second Ctrl+Enter cannot send the prompt twice.
  const checking = useRef(false);
  const ids = { prompt: useId(), counter: useId(), error: useId() };

  const length = prompt.trim().length;
  const overLimit = length > PROMPT_MAX_LENGTH;

  async function send() {
    if (submit.isPending || checking.current) return;
    checking.current = true;
    try {
      const { imagineRequestSchema } = await loadContract();
      const parsed = imagineRequestSchema.safeParse({ prompt, aspect_ratio: aspectRatio, quality });
      if (!parsed.success) {
        setValidationError(parsed.error.issues[0]?.message ?? 'Check the prompt');
        return;
      }
      setValidationError(null);
      submit.mutate(parsed.data);
    } catch {
      setValidationError('Could not reach the server. Check your connection.');
    } finally {
      checking.current = false;
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  }

  const serverError = submit.error ? describeSubmitError(submit.error) : null;
  const message = validationError ?? serverError;

  return (
    <form ref={ref} className="prompt-form" onSubmit={onSubmit} noValidate aria-busy={submit.isPending}>
      <label htmlFor={ids.prompt} className="prompt-label">
        Prompt
      </label>
      <textarea
        id={ids.prompt}
        name="prompt"
        value={prompt}
        onChange={(event) => {
          setPrompt(event.target.value);
          if (validationError) setValidationError(null);
        }}
        onKeyDown={onKeyDown}
        placeholder="A lighthouse on a cliff at sunset, volumetric light, oil painting"
        rows={3}
        // biome-ignore lint/a11y/noAutofocus: focus moves here only after the user chose "Use again".
        autoFocus={autoFocus}
        disabled={submit.isPending}
        aria-invalid={message ? true : undefined}
        aria-describedby={`${ids.counter}${message ? ` ${ids.error}` : ''}`}
      />
      <div className="form-row">
        <fieldset className="ratios" disabled={submit.isPending}>
          <legend>Aspect ratio</legend>
          {MAIN_RATIOS.map((ratio) => (
            <label key={ratio} className="ratio">
              <input
                type="radio"
                name="aspect_ratio"
                value={ratio}
                checked={aspectRatio === ratio}
                onChange={() => setAspectRatio(ratio)}
              />
              <span className="ratio-shape" style={{ aspectRatio: ratio.replace(':', ' / ') }} aria-hidden />
              {ratio}
            </label>
          ))}
          <select
            aria-label="More aspect ratios"
            value={MORE_RATIOS.includes(aspectRatio) ? aspectRatio : ''}
            onChange={(event) => {
              const picked = ASPECT_RATIOS.find((ratio) => ratio === event.target.value);
              if (picked) setAspectRatio(picked);
            }}
          >
            <option value="">More…</option>
            {MORE_RATIOS.map((ratio) => (
              <option key={ratio} value={ratio}>
                {ratio}
              </option>
            ))}
          </select>
        </fieldset>
        <label className="quality">
          Quality
          <select
            name="quality"
            value={quality}
            disabled={submit.isPending}
            onChange={(event) => setQuality(event.target.value === 'high' ? 'high' : 'standard')}
          >
            <option value="standard">Standard</option>
            <option value="high">High (2× cost)</option>
          </select>
        </label>
      </div>
      <div className="form-row form-footer">
        <span id={ids.counter} className={overLimit ? 'counter over' : 'counter'}>
          {length} / {PROMPT_MAX_LENGTH}
        </span>
        <span className="hint">Ctrl/⌘ + Enter</span>
        <button type="submit" className="primary" disabled={submit.isPending || length === 0}>
          {submit.isPending ? 'Submitting…' : 'Generate'}
        </button>
      </div>
      <p id={ids.error} className="form-error" role="alert">
        {message}
      </p>
    </form>
  );
}

function describeSubmitError(error: Error): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.';
  if (error.code === 'rate_limited' && error.retryAfterS !== undefined) {
    return `Too many requests right now. Try again in ${error.retryAfterS} s.`;
  }
  return error.message;
}
