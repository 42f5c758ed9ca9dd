// The API keys panel: making a key (its secret shown once, to copy), the caller's keys with
// when each was made and last used, revoking one, and how a script or a midjourney-proxy client uses it.
import type { ApiKey, CreatedApiKey } from '@shared/schemas/api-key';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useContract } from '@/lib/use-contract';
import { usePanelFocus } from '@/lib/use-panel-focus';
import { useCreateKey } from '../api/create-key';
import { useKeys } from '../api/list-keys';
import { useRevokeKey } from '../api/revoke-key';

export interface KeysPanelProps {
  onClose: () => void;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Moment({ iso }: { iso: string }) {
  return <time dateTime={iso}>{when.format(new Date(iso))}</time>;
}

export function KeysPanel({ onClose }: KeysPanelProps) {
  const keys = useKeys();
  const create = useCreateKey();
  const contract = useContract();
  const [name, setName] = useState('');
  const titleId = useId();
  const nameId = useId();
  const title = usePanelFocus<HTMLHeadingElement>();

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    create.mutate(trimmed, { onSuccess: () => setName('') });
  }

  const live = keys.data?.keys.filter((key) => key.revoked_at === null).length;
  const endpoint = `${window.location.origin}/mj`;

  return (
    <section className="prompt-form keys-panel" aria-labelledby={titleId}>
      <div className="keys-head">
        <h2 id={titleId} ref={title} tabIndex={-1}>
          API keys
        </h2>
        <button type="button" className="quiet" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="keys-usage">
        Point your midjourney-proxy client at <code>{endpoint}</code> with this key as its <code>mj-api-secret</code>{' '}
        (or as <code>Authorization: Bearer …</code>). Scripts send it to <code>{`${window.location.origin}/api`}</code>{' '}
        as <code>Authorization: Bearer …</code> (the <a href="/api/docs">API reference</a> lists every route). Each key
        has a history of its own: jobs made with a key are the key's, not this browser's.
      </p>

      {create.data ? (
        <NewSecret
          created={create.data}
          onDone={() => {
            create.reset();
            title.current?.focus();
          }}
        />
      ) : (
        <form className="keys-form" onSubmit={onSubmit}>
          <label htmlFor={nameId} className="prompt-label">
            Name
          </label>
          <div className="form-row keys-form-row">
            <input
              id={nameId}
              value={name}
              maxLength={contract?.API_KEY_NAME_MAX}
              placeholder="chat bot, gateway, script…"
              onChange={(event) => setName(event.target.value)}
              disabled={create.isPending}
            />
            <button type="submit" className="primary" disabled={create.isPending || name.trim().length === 0}>
              {create.isPending ? 'Creating…' : 'Create key'}
            </button>
          </div>
          <p className="form-error" role="alert">
            {create.error?.message}
          </p>
        </form>
      )}

      {keys.isPending ? <p className="hint">Loading keys…</p> : null}
      {keys.isError ? (
        <p className="form-error" role="alert">
          Could not load the keys: {keys.error.message}
        </p>
      ) : null}
      {keys.data && keys.data.keys.length === 0 ? <p className="hint">No keys yet.</p> : null}
      {keys.data && keys.data.keys.length > 0 ? (
        <>
          <p className="hint">
            {live} of {contract?.MAX_LIVE_API_KEYS ?? '…'} keys in use
          </p>
          <ul className="key-list" aria-label="Your API keys">
            {keys.data.keys.map((key) => (
              <KeyRow key={key.id} apiKey={key} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

/** The secret just made: shown here once, with a way to copy it, until dismissed. */
function NewSecret({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const field = useRef<HTMLInputElement>(null);
  const fieldId = useId();

  useEffect(() => {
    field.current?.focus();
    field.current?.select();
  }, []);

  function onCopy() {
    // The clipboard needs a secure context; where it is missing, the selected text is there to copy by hand.
    if (!navigator.clipboard) {
      setCopy('failed');
      field.current?.select();
      return;
    }
    navigator.clipboard.writeText(created.secret).then(
      () => setCopy('copied'),
      () => {
        setCopy('failed');
        field.current?.select();
      },
    );
  }

  return (
    <div className="key-secret">
      <p className="key-warning">
        <strong>Copy this key now: it is shown only once.</strong> The server keeps only a hash of it. If you lose it,
        revoke it and create another.
      </p>
      <label htmlFor={fieldId} className="prompt-label">
        Secret of “{created.key.name}”
      </label>
      <div className="form-row keys-form-row">
        <input
          id={fieldId}
          ref={field}
          className="key-secret-value"
          readOnly
          value={created.secret}
          spellCheck={false}
          autoComplete="off"
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" onClick={onCopy}>
          {copy === 'copied' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
      <p className="hint" role="status">
        {copy === 'copied' ? 'Copied to the clipboard.' : null}
        {copy === 'failed' ? 'Could not copy: select the key and copy it yourself.' : null}
      </p>
    </div>
  );
}

function KeyRow({ apiKey }: { apiKey: ApiKey }) {
  const revoke = useRevokeKey();
  const [confirming, setConfirming] = useState(false);
  const keep = useRef<HTMLButtonElement>(null);
  const revoked = apiKey.revoked_at !== null;

  // The button that asked is gone: the safe answer takes the focus.
  useEffect(() => {
    if (confirming) keep.current?.focus();
  }, [confirming]);

  return (
    <li className={revoked ? 'key-row revoked' : 'key-row'}>
      <div className="key-main">
        <span className="key-name">{apiKey.name}</span> <code className="key-hint">{apiKey.hint}</code>
      </div>
      <div className="key-dates">
        Created <Moment iso={apiKey.created_at} /> · Last used{' '}
        {apiKey.last_used_at ? <Moment iso={apiKey.last_used_at} /> : 'never'}
        {apiKey.revoked_at ? (
          <>
            {' '}
            · Revoked <Moment iso={apiKey.revoked_at} />
          </>
        ) : null}
      </div>
      {revoked ? null : confirming ? (
        <fieldset className="key-confirm">
          <legend>Revoke “{apiKey.name}”? Clients using it stop working at once.</legend>
          <button type="button" className="danger" onClick={() => revoke.mutate(apiKey.id)} disabled={revoke.isPending}>
            {revoke.isPending ? 'Revoking…' : 'Revoke key'}
          </button>
          <button type="button" ref={keep} onClick={() => setConfirming(false)} disabled={revoke.isPending}>
            Keep it
          </button>
        </fieldset>
      ) : (
        <button type="button" aria-label={`Revoke ${apiKey.name}`} onClick={() => setConfirming(true)}>
          Revoke
        </button>
      )}
      {revoke.error ? (
        <p className="form-error" role="alert">
          {revoke.error.message}
        </p>
      ) : null}
    </li>
  );
}
