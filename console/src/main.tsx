/**
 * The web console: a topic list and one page per topic (#/topics/NAME), over the REST API
 * only. The bearer token field is for servers that authenticate with JWTs; on the loopback
 * embedded default, or behind mTLS, it stays empty.
 */
import 'uplot/dist/uPlot.min.css';
import '../style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { saveToken, savedToken } from './api.js';
import { TopicPage } from './topic.js';
import { TopicList } from './topics.js';

function route(): { page: 'list' } | { page: 'topic'; name: string } {
  const m = /^#\/topics\/(.+)$/.exec(location.hash);
  return m?.[1] ? { page: 'topic', name: decodeURIComponent(m[1]) } : { page: 'list' };
}

function TokenForm() {
  const [token, setToken] = useState(savedToken());
  const [saved, setSaved] = useState(savedToken() !== '');
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        saveToken(token.trim());
        setSaved(token.trim() !== '');
        location.reload();
      }}
    >
      <label for="token">Bearer token</label> <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} placeholder="none: anonymous or mTLS" />{' '}
      <button type="submit">{saved ? 'Replace' : 'Use'}</button>{' '}
      {saved && (
        <button type="button" onClick={() => (saveToken(''), location.reload())}>
          Forget
        </button>
      )}
    </form>
  );
}

function App() {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = () => {
      setR(route());
      window.scrollTo(0, 0);
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    document.title = r.page === 'topic' ? `${r.name} · Imprint console` : 'Topics · Imprint console';
  }, [r]);
  return (
    <>
      <header>
        <a href="#/" class="brand">
          Imprint console
        </a>
        <TokenForm />
      </header>
      {r.page === 'topic' ? <TopicPage key={r.name} name={r.name} /> : <TopicList />}
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
