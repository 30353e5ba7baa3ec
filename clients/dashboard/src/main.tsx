import { render } from 'preact';
import { useState } from 'preact/hooks';
import { ClusterView } from './cluster.js';
import { SignIn } from './signin.js';
import { forgetToken, saveToken, savedToken } from './session.js';

function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [notice, setNotice] = useState('');
  const signOut = (why: string) => {
    forgetToken();
    setNotice(why);
    setToken(null);
  };
  return (
    <>
      <header class="top">
        <h1>Switchboard</h1>
        {token && <button class="link" onClick={() => signOut('')}>Sign out</button>}
      </header>
      <main>
        {token
          ? <ClusterView token={token} onUnauthorized={() => signOut('The token is no longer accepted: sign in again.')} />
          : <SignIn notice={notice} onSignedIn={(t) => { saveToken(t); setNotice(''); setToken(t); }} />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
