import { useEffect, useState } from 'preact/hooks';
import { adminGet, AdminApiError, type ClusterOverview, type NodeFigures } from './api.js';
import { followNodes } from './live.js';
import { bytes, count, duration } from './format.js';
import { Sparkline } from './sparkline.js';

/** How many live samples each node's sparkline keeps (one a second: a minute). */
const HISTORY = 60;

interface NodeRow {
  figures: NodeFigures;
  connections: number[];
}

type Rows = Record<string, NodeRow>;

function merge(rows: Rows, f: NodeFigures, sample: boolean): Rows {
  const prev = rows[f.node_id];
  const history = prev ? prev.connections : [];
  const connections = sample && f.connections !== undefined ? [...history, f.connections].slice(-HISTORY) : history;
  return { ...rows, [f.node_id]: { figures: { ...prev?.figures, ...f, answering: f.answering ?? true }, connections } };
}

/**
 * The Cluster view: a card per node. The overview (GET /api/v1/admin/cluster) gives the list, the
 * nodes that do not answer included; `$sys:nodes` then updates each card about once a second. Both
 * stop while the tab is hidden and start again (with a fresh overview) when it is shown.
 */
export function ClusterView({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const [rows, setRows] = useState<Rows>({});
  const [trouble, setTrouble] = useState('');
  const [visible, setVisible] = useState(document.visibilityState === 'visible');

  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);

  useEffect(() => {
    if (!visible) return undefined;
    const abort = new AbortController();
    adminGet<ClusterOverview>(token, 'cluster', abort.signal)
      .then((o) => {
        // nodes no longer listed are dropped; silent ones stay, marked
        setRows((r) => o.nodes.reduce<Rows>((acc, f) => merge(acc, { ...r[f.node_id]?.figures, ...f }, false),
          Object.fromEntries(o.nodes.filter((f) => r[f.node_id]).map((f) => [f.node_id, r[f.node_id]!]))));
      })
      .catch((e: unknown) => {
        if (e instanceof AdminApiError && (e.status === 401 || e.status === 403)) onUnauthorized();
        else if (!abort.signal.aborted) setTrouble(e instanceof Error ? e.message : 'overview failed');
      });
    const stop = followNodes(token, (f) => setRows((r) => merge(r, f, true)), setTrouble);
    return () => {
      abort.abort();
      stop();
    };
  }, [token, visible]);

  const nodes = Object.values(rows).sort((a, b) => a.figures.node_id.localeCompare(b.figures.node_id));
  const total = nodes.reduce((n, r) => n + (r.figures.connections ?? 0), 0);
  return (
    <section aria-labelledby="cluster-title">
      <h2 id="cluster-title">
        Cluster <small>{nodes.length} node{nodes.length === 1 ? '' : 's'}, {count(total)} connections</small>
      </h2>
      {trouble && <p class="trouble" role="status">{trouble}</p>}
      {!visible && <p class="paused">Updates paused while the tab is hidden.</p>}
      <div class="cards">
        {nodes.map((r) => <NodeCard key={r.figures.node_id} row={r} />)}
      </div>
    </section>
  );
}

function NodeCard({ row }: { row: NodeRow }) {
  const f = row.figures;
  const state = f.answering === false ? 'silent' : f.draining ? 'draining' : f.ready === false ? 'not ready' : 'serving';
  return (
    <article class={`card ${state.replace(' ', '-')}`} data-node={f.node_id}>
      <header>
        <h3>{f.node_id}</h3>
        <span class="badge">{state}</span>
      </header>
      <div class="big">
        <span>{count(f.connections)}</span> connections
        <Sparkline values={row.connections} label={`connections of ${f.node_id} over the last minute`} />
      </div>
      <dl>
        <dt>subscriptions</dt><dd>{count(f.subscriptions)}</dd>
        <dt>topics open</dt><dd>{count(f.topics_open)}</dd>
        <dt>operations</dt><dd>{count(f.operations_running)} running, {count(f.operations_queued)} queued</dd>
        <dt>event-loop delay</dt><dd>{f.event_loop_delay_ms === undefined ? '–' : `${f.event_loop_delay_ms} ms`}</dd>
        <dt>heap</dt><dd>{bytes(f.heap_used_bytes)} of {bytes(f.heap_max_bytes)}</dd>
        <dt>uptime</dt><dd>{duration(f.uptime_ms)}</dd>
        <dt>role</dt><dd>{f.role ?? '–'}</dd>
      </dl>
    </article>
  );
}
