// The prompt box. Its one state is the text: the controls (aspect ratio, the settings panel,
// the images' weights) show what the text says and change it through the shared grammar, and
// the settings a user picks are remembered as this browser's defaults for the prompts to come.
// Images join by drop, paste or the file picker. Checked with the shared schema before sending;
// Ctrl/Cmd+Enter sends. The panel and the tray load when first shown (the initial bundle's budget).

import type { ImagineRequestInput } from '@shared/schemas/imagine';
import { PROMPT_MAX_LENGTH } from '@shared/schemas/imagine-values';
import type { ParamKey, PromptParams } from '@shared/schemas/params-values';
import { type FormEvent, type KeyboardEvent, lazy, type Ref, Suspense, useId, useRef, useState } from 'react';
import { ApiError, loadContract } from '@/lib/api-client';
import { useContract } from '@/lib/use-contract';
import { useSubmitJob } from '../api/submit-job';
import { useImageDrop } from '../hooks/use-image-drop';
import { type IncomingImage, useImageTray } from '../hooks/use-image-tray';
import { useParamDefaults } from '../hooks/use-param-defaults';
import type { Draft } from '../utils/draft';
import { PANEL_KEYS, type PanelKey, readPrompt } from '../utils/param-defaults';
import { ROLE_WEIGHTS, referencesOf } from '../utils/tray-image';
import { PromptRatios } from './prompt-ratios';

const PromptSettings = lazy(() => import('./prompt-settings').then((module) => ({ default: module.PromptSettings })));
const ImageTray = lazy(() => import('./image-tray').then((module) => ({ default: module.ImageTray })));

const ACCEPTED_IMAGES = 'image/png,image/jpeg,image/webp';

interface PromptFormProps {
  initial?: Draft | undefined;
  /** An image offered from a card ("Use as image prompt"). */
  incomingImage?: IncomingImage | undefined;
  autoFocus?: boolean;
  ref?: Ref<HTMLFormElement>;
}

export function PromptForm({ initial, incomingImage, autoFocus = false, ref }: PromptFormProps) {
  const contract = useContract();
  const [text, setText] = useState(initial?.request.prompt ?? '');
  const [validationError, setValidationError] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const defaults = useParamDefaults();
  const tray = useImageTray(initial?.images ?? [], incomingImage, contract);
  const submit = useSubmitJob();
  const { dropping, dropHandlers, onPaste } = useImageDrop(tray.addFiles, submit.isPending);
  // Set while the schema check runs, so that a second Ctrl+Enter cannot send the prompt twice.
  const checking = useRef(false);
  const ids = { prompt: useId(), counter: useId(), issues: useId(), error: useId(), settings: useId() };

  const reading = contract ? readPrompt(text, defaults.stored, contract) : undefined;
  const issues = reading?.parsed.issues ?? [];
  const extra = reading?.extra ?? {};
  const length = text.trim().length;
  const overLimit = length > PROMPT_MAX_LENGTH;
  const [omni] = tray.images.filter((image) => image.role === 'omni');
  const cost =
    reading && contract ? contract.paramCost({ ...reading.effective, ...(omni ? { oref: omni.url } : {}) }) : 1;

  function edit(next: (current: string) => string) {
    setText(next);
    if (validationError) setValidationError(null);
  }

  function setParam<K extends ParamKey>(key: K, value: PromptParams[K] | undefined) {
    if (contract) edit((current) => contract.withParam(current, key, value));
  }

  // A setting picked in the panel applies to this prompt and is remembered for the next ones.
  function setSetting<K extends PanelKey>(key: K, value: PromptParams[K] | undefined) {
    setParam(key, value);
    defaults.remember(key, value);
  }

  function resetSettings() {
    if (contract)
      edit((current) => PANEL_KEYS.reduce((prompt, key) => contract.withParam(prompt, key, undefined), current));
    defaults.forget();
  }

  function removeImage(key: string) {
    const removed = tray.images.find((image) => image.key === key);
    tray.remove(key);
    // The last image of a role takes its weight with it.
    if (removed && !tray.images.some((image) => image.key !== key && image.role === removed.role)) {
      setParam(ROLE_WEIGHTS[removed.role], undefined);
    }
  }

  async function send() {
    if (submit.isPending || checking.current) return;
    if (tray.uploading.length > 0) {
      setValidationError('Wait until the images have uploaded');
      return;
    }
    checking.current = true;
    try {
      const loaded = await loadContract();
      const { extra: params } = readPrompt(text, defaults.stored, loaded);
      const request: ImagineRequestInput = {
        prompt: text,
        ...(Object.keys(params).length > 0 ? { params } : {}),
        ...referencesOf(tray.images),
      };
      const checked = loaded.imagineRequestSchema.safeParse(request);
      if (!checked.success) {
        setValidationError(checked.error.issues[0]?.message ?? 'Check the prompt');
        return;
      }
      setValidationError(null);
      submit.mutate(request);
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
  const describedBy = [ids.counter, issues.length > 0 ? ids.issues : '', message ? ids.error : ''].filter(Boolean);
  const showTray = tray.images.length > 0 || tray.uploading.length > 0 || tray.errors.length > 0;

  return (
    <form
      ref={ref}
      className={`prompt-form${dropping ? ' dropping' : ''}`}
      onSubmit={onSubmit}
      noValidate
      aria-busy={submit.isPending}
      {...dropHandlers}
    >
      <label htmlFor={ids.prompt} className="prompt-label">
        Prompt
      </label>
      <textarea
        id={ids.prompt}
        name="prompt"
        value={text}
        onChange={(event) => edit(() => event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        placeholder="A lighthouse on a cliff at sunset, volumetric light, oil painting --ar 3:2 --s 250"
        rows={3}
        // biome-ignore lint/a11y/noAutofocus: focus moves here only after the user chose "Use again".
        autoFocus={autoFocus}
        disabled={submit.isPending}
        aria-invalid={message || issues.length > 0 ? true : undefined}
        aria-describedby={describedBy.join(' ')}
      />
      <ul id={ids.issues} className="prompt-issues" aria-live="polite">
        {issues.map((issue, index) => (
          // Issues have no identity but their place and words.
          // biome-ignore lint/suspicious/noArrayIndexKey: two issues may read the same.
          <li key={index}>{issue.message}</li>
        ))}
      </ul>
      {showTray ? (
        <Suspense fallback={<p className="hint">Loading images…</p>}>
          <ImageTray tray={tray} effective={reading?.effective ?? {}} onWeight={setParam} onRemove={removeImage} />
        </Suspense>
      ) : null}
      <div className="form-row">
        <PromptRatios
          ratio={reading?.parsed.params.aspect_ratio ?? '1:1'}
          // 1:1 is Midjourney's own default: choosing it takes --ar out of the text.
          onChange={(ratio) => setParam('aspect_ratio', ratio === '1:1' ? undefined : ratio)}
          check={(ratio) => contract?.validateParams({ aspect_ratio: ratio }).issues[0]?.message}
          disabled={submit.isPending || !contract}
        />
        <label className="button add-images">
          Add images
          <input
            type="file"
            accept={ACCEPTED_IMAGES}
            multiple
            className="visually-hidden"
            disabled={submit.isPending}
            onChange={(event) => {
              tray.addFiles(Array.from(event.target.files ?? []));
              event.target.value = '';
            }}
          />
        </label>
        <button
          type="button"
          className="settings-toggle"
          aria-expanded={settingsOpen}
          aria-controls={ids.settings}
          onClick={() => setSettingsOpen((open) => !open)}
        >
          Settings <span aria-hidden="true">{settingsOpen ? '▴' : '▾'}</span>
        </button>
      </div>
      <div id={ids.settings} hidden={!settingsOpen}>
        {settingsOpen && reading ? (
          <Suspense fallback={<p className="hint">Loading settings…</p>}>
            <PromptSettings reading={reading} onChange={setSetting} onReset={resetSettings} />
          </Suspense>
        ) : null}
      </div>
      {contract && Object.keys(extra).length > 0 ? (
        <p className="defaults-line">
          Your defaults, added: <code>{contract.printPrompt({ text: '', params: extra })}</code>
        </p>
      ) : null}
      <div className="form-row form-footer">
        <span id={ids.counter} className={overLimit ? 'counter over' : 'counter'}>
          {length} / {PROMPT_MAX_LENGTH}
        </span>
        {cost !== 1 ? <span className="cost-note">{cost}× cost</span> : null}
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
