import { SwitchboardError } from './errors.js';
import { callApp, type Link } from './link.js';
import type { Position, PresenceChange, ResetInfo, SubscribeHandlers, SubscribeOptions, Subscription, SubscriptionState, TopicEvent } from './subscription.js';

/** One server subscription, shared by every Subscription of that topic (reference counted). */
interface TopicState {
  topic: string;
  subs: Set<SubscriptionImpl>;
  /** last position delivered (or subscribed at, or the application's `since`) */
  position: Position | undefined;
  /** 'none': not on the current connection; 'pending': subscribe sent; 'active': confirmed or resumed */
  server: 'none' | 'pending' | 'active';
  /** the pending subscribe was re-sent after a resume that may already hold it */
  resent: boolean;
  retryTimer: unknown;
}

class SubscriptionImpl implements Subscription {
  state: SubscriptionState = 'subscribing';
  constructor(
    readonly topic: string,
    readonly handlers: SubscribeHandlers<any>,
    private readonly owner: Topics,
  ) {}
  get position(): Position | undefined {
    return this.owner.position(this.topic);
  }
  unsubscribe(): void {
    if (this.state === 'unsubscribed' || this.state === 'failed') return;
    this.state = 'unsubscribed';
    this.owner.release(this);
  }
}

/**
 * The client's topics: one server subscription per topic, carried across reconnects (nothing to
 * do after `resumed:true`, a subscribe with `since` after `resumed:false`), and every event handed
 * to the application exactly once, in offset order. State lives on the caller's event loop.
 */
export class Topics {
  private readonly topics = new Map<string, TopicState>();
  /** topics let go while disconnected: a resumed session still holds them */
  private readonly stale = new Set<string>();

  constructor(private readonly link: Link) {}

  subscribe<T>(topic: string, opts: SubscribeOptions<T>): Subscription {
    const sub = new SubscriptionImpl(topic, opts, this);
    let ts = this.topics.get(topic);
    if (!ts) {
      const since = opts.since ? { offset: opts.since.offset, epoch: opts.since.epoch } : undefined;
      ts = { topic, subs: new Set([sub]), position: since, server: 'none', resent: false, retryTimer: undefined };
      this.topics.set(topic, ts);
      this.stale.delete(topic);
      if (this.link.connected()) this.send(ts);
    } else {
      ts.subs.add(sub);
      if (ts.server === 'active' && ts.position) {
        sub.state = 'subscribed';
        const position = ts.position;
        queueMicrotask(() => callApp(sub.handlers.onSubscribed, { position, recovered: false }));
      }
    }
    return sub;
  }

  position(topic: string): Position | undefined {
    return this.topics.get(topic)?.position;
  }

  /** A Subscription let go: the last one of a topic ends the server subscription. */
  release(sub: SubscriptionImpl): void {
    const ts = this.topics.get(sub.topic);
    if (!ts || !ts.subs.delete(sub) || ts.subs.size > 0) return;
    this.topics.delete(ts.topic);
    if (ts.retryTimer !== undefined) this.link.clock.clearTimeout(ts.retryTimer);
    if (this.link.connected()) {
      if (ts.server !== 'none') this.link.call('topic.unsubscribe', { topic: ts.topic }).catch(() => undefined);
    } else if (this.link.hasSession()) {
      this.stale.add(ts.topic);
    }
  }

  /** A new connection: what its session holds (resumed) or lacks (not resumed) is set right. */
  restore(resumed: boolean): void {
    for (const topic of this.stale) {
      if (resumed && !this.topics.has(topic)) this.link.write({ id: this.link.id(), method: 'topic.unsubscribe', params: { topic } });
    }
    this.stale.clear();
    for (const ts of this.topics.values()) {
      if (resumed && ts.server === 'active') continue;
      ts.resent = resumed && ts.server === 'pending';
      this.send(ts);
    }
  }

  /** The connection is gone: retries wait for the next one. */
  disconnected(): void {
    for (const ts of this.topics.values()) {
      if (ts.retryTimer !== undefined) this.link.clock.clearTimeout(ts.retryTimer);
      ts.retryTimer = undefined;
    }
  }

  /** The SDK stopped (4009, auth): the next connect() subscribes again. */
  stopped(): void {
    this.disconnected();
    for (const ts of this.topics.values()) ts.server = 'none';
  }

  /** The client was closed: every subscription ends. */
  closed(): void {
    this.disconnected();
    for (const ts of this.topics.values()) for (const s of ts.subs) s.state = 'unsubscribed';
    this.topics.clear();
    this.stale.clear();
  }

  /** Topics a refreshed token no longer allows (the node ended them): returns those we had. */
  revoked(topics: string[]): string[] {
    const dropped = topics.filter((topic) => this.topics.has(topic));
    for (const topic of dropped) {
      const ts = this.topics.get(topic)!;
      this.topics.delete(topic);
      this.fail(ts, new SwitchboardError('FORBIDDEN', `the refreshed token no longer allows ${topic}`));
    }
    return dropped;
  }

  /** Exactly once, in offset order: a repeat (offset at or below the last delivered, same epoch) is dropped. */
  event(f: TopicEvent): void {
    const ts = this.topics.get(f.topic);
    if (!ts || typeof f.offset !== 'number') return;
    const pos = ts.position;
    if (pos && pos.epoch === f.epoch && f.offset <= pos.offset) return;
    if (pos && (pos.epoch !== f.epoch || f.offset > pos.offset + 1)) {
      // a new history (epoch), or events that will never come (offsets have no gaps by contract)
      this.reset(ts, { topic: f.topic, reason: pos.epoch !== f.epoch ? 'epoch' : 'gap', previous: pos, position: { offset: f.offset - 1, epoch: f.epoch } });
    }
    ts.position = { offset: f.offset, epoch: f.epoch };
    const e: TopicEvent = { topic: f.topic, offset: f.offset, epoch: f.epoch, data: f.data, ts: f.ts, ...(f.from !== undefined ? { from: f.from } : {}) };
    for (const s of ts.subs) callApp(s.handlers.onEvent, e);
  }

  presence(f: PresenceChange): void {
    const ts = this.topics.get(f.topic);
    if (ts) for (const s of ts.subs) callApp(s.handlers.onPresence, f);
  }

  private send(ts: TopicState): void {
    const since = ts.position;
    const resent = ts.resent;
    ts.server = 'pending';
    this.link.call<{ offset: number; epoch: string; recovered: boolean }>('topic.subscribe', { topic: ts.topic, ...(since ? { since } : {}) }).then(
      (r) => {
        if (this.topics.get(ts.topic) !== ts) return;
        ts.server = 'active';
        ts.resent = false;
        const latest = { offset: r.offset, epoch: r.epoch };
        if (!ts.position) {
          ts.position = latest;
        } else if (since && !r.recovered && !(resent && r.epoch === ts.position.epoch)) {
          // history no longer holds what we missed (or another epoch): say so, go on from the latest.
          // (A subscribe re-sent after a resume whose session already had it answers recovered:false too.)
          this.reset(ts, { topic: ts.topic, reason: r.epoch === since.epoch ? 'unrecoverable' : 'epoch', previous: ts.position, position: latest });
          ts.position = latest;
        }
        for (const s of ts.subs) {
          if (s.state === 'subscribing') s.state = 'subscribed';
          callApp(s.handlers.onSubscribed, { position: ts.position, recovered: r.recovered === true });
        }
      },
      (err: SwitchboardError) => {
        if (this.topics.get(ts.topic) !== ts) return;
        ts.server = 'none';
        if (err.code === 'DISCONNECTED' || err.code === 'CLOSED') return; // the next connection subscribes again
        if (err.retryable) {
          ts.retryTimer = this.link.clock.setTimeout(() => {
            ts.retryTimer = undefined;
            if (this.topics.get(ts.topic) === ts && this.link.connected()) this.send(ts);
          }, err.retryAfterMs ?? this.link.retryDelay());
          return;
        }
        this.topics.delete(ts.topic);
        this.fail(ts, err);
      },
    );
  }

  private reset(ts: TopicState, info: ResetInfo): void {
    for (const s of ts.subs) callApp(s.handlers.onReset, info);
  }

  private fail(ts: TopicState, err: Error): void {
    for (const s of ts.subs) {
      s.state = 'failed';
      callApp(s.handlers.onError, err);
    }
  }
}
