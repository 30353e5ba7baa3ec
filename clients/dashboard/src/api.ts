// The admin API (docs/admin.md) as the page uses it: same-origin fetches with the admin token.

/** One node's figures: the cluster overview's row, and the data of a `$sys:nodes` event. */
export interface NodeFigures {
  node_id: string;
  answering?: boolean;
  role?: string;
  connections?: number;
  subscriptions?: number;
  topics_open?: number;
  operations_running?: number;
  operations_queued?: number;
  event_loop_delay_ms?: number;
  heap_used_bytes?: number;
  heap_max_bytes?: number;
  uptime_ms?: number;
  started_at?: number;
  draining?: boolean;
  ready?: boolean;
  ts?: number;
}

export interface ClusterOverview {
  nodes: NodeFigures[];
  connections: number;
  not_answering: string[];
}

/** A refused or failed admin request: the HTTP status and the API's stable code. */
export class AdminApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export async function adminGet<T>(token: string, path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1/admin/${path}`, { headers: { Authorization: `Bearer ${token}` }, signal: signal ?? null });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new AdminApiError(0, 'UNAVAILABLE', 'the node did not answer');
  }
  const body: unknown = await res.json().catch(() => ({}));
  if (!res.ok) {
    const b = body as { code?: string; message?: string };
    throw new AdminApiError(res.status, b.code ?? 'INTERNAL', b.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}
