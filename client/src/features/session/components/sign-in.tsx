// The sign-in screen shown when the server asks for its access token.
import { type FormEvent, useId, useState } from 'react';
import { useSignIn } from '../api/session';

export function SignIn() {
  const [token, setToken] = useState('');
  const signIn = useSignIn();
  const id = useId();

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (token) signIn.mutate(token);
  }

  return (
    <form className="prompt-form sign-in" onSubmit={onSubmit}>
      <h2>Sign in</h2>
      <p className="hint">This mj-studio is private. Enter the access token its operator gave you.</p>
      <label htmlFor={id} className="prompt-label">
        Access token
      </label>
      <input
        id={id}
        type="password"
        autoComplete="current-password"
        value={token}
        onChange={(event) => setToken(event.target.value)}
        disabled={signIn.isPending}
      />
      <div className="form-row form-footer">
        <button type="submit" className="primary" disabled={signIn.isPending || token.length === 0}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </div>
      <p className="form-error" role="alert">
        {signIn.error?.message}
      </p>
    </form>
  );
}
