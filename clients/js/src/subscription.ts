/** What an application sees of a topic: its events exactly once, in offset order, and resets. */

export interface Position {
  offset: number;
  epoch: string;
}

export interface TopicEvent<T = unknown> {
  topic: string;
  offset: number;
  epoch: string;
  data: T;
  ts: number;
  from?: string;
}

export interface PresenceChange {
  topic: string;
  action: 'join' | 'leave';
  user_id: string;
  device_id: string;
}

/**
 * The SDK could not carry the subscription over without a gap: history no longer held the last
 * position (`recovered:false`) or the topic's history was reset (a new epoch). Events from
 * `position` on follow; reload the state the events built.
 */
export interface ResetInfo {
  topic: string;
  /** unrecoverable: history no longer holds the position; epoch: the history was reset; gap: offsets skipped (never expected) */
  reason: 'unrecoverable' | 'epoch' | 'gap';
  /** the last position the application had seen */
  previous: Position | undefined;
  /** where delivery goes on from (the next event is after it) */
  position: Position;
}

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';

export interface SubscribeHandlers<T = unknown> {
  onEvent?: (e: TopicEvent<T>) => void;
  onReset?: (info: ResetInfo) => void;
  onPresence?: (p: PresenceChange) => void;
  /** the subscription is live on the server (first time, and after every re-subscribe) */
  onSubscribed?: (info: { position: Position; recovered: boolean }) => void;
  /** the subscription ended without `unsubscribe()`: refused (FORBIDDEN…) or dropped by a token refresh */
  onError?: (err: Error) => void;
}

export interface SubscribeOptions<T = unknown> extends SubscribeHandlers<T> {
  /**
   * Start after this position (the last event the application processed, e.g. kept in storage
   * across page loads): the missed events are replayed, or onReset says they cannot be.
   * Ignored when the topic is already subscribed by this client.
   */
  since?: Position;
}

export interface Subscription {
  readonly topic: string;
  readonly state: SubscriptionState;
  /** the last position delivered to the application (or subscribed at) */
  readonly position: Position | undefined;
  unsubscribe(): void;
}
