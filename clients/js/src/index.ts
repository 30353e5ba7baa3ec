export { Switchboard } from './client.js';
export type { State, ConnectedInfo, DirectMessage, SwitchboardOptions, CallOptions, ClientEvents, BrowserEvents } from './client.js';
export type { Clock } from './link.js';
export { SwitchboardError } from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF_MIN_MS, DEFAULT_BACKOFF_MAX_MS } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { Operation, OperationFrame } from './operation-handle.js';
export type { Subscription, SubscriptionState, SubscribeHandlers, SubscribeOptions, TopicEvent, ResetInfo, Position, PresenceChange } from './subscription.js';
export type { WebSocketCtor, Codec } from './transport.js';
