import { useState } from 'preact/hooks';
import { adminGet, AdminApiError } from './api.js';

/** Sign in by pasting an admin token; it is checked against the admin API before it is kept. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(notice);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError('');
    try {
      await adminGet(t, 'cluster');
      onSignedIn(t);
    } catch (err) {
      if (err instanceof AdminApiError && err.status === 401) setError(`This token was refused: ${err.message}.`);
      else if (err instanceof AdminApiError && err.status === 403) setError('This token has no admin role.');
      else setError(err instanceof Error ? err.message : 'sign-in failed');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="signin" onSubmit={submit}>
      <h2>Sign in</h2>
      <label for="token">Admin token (a JWT with role <code>admin</code>)</label>
      <textarea id="token" rows={4} spellcheck={false} autocomplete="off" value={token}
        onInput={(e) => setToken((e.currentTarget as HTMLTextAreaElement).value)} />
      <p class="hint">
        Kept in this tab only (sessionStorage). Make one with <code>java -jar switchboard.jar token --sub you --claim roles=admin</code>.
      </p>
      {error && <p class="trouble" role="alert">{error}</p>}
      <button type="submit" disabled={busy || !token.trim()}>{busy ? 'Checking…' : 'Sign in'}</button>
    </form>
  );
}
