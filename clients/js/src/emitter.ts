import { reportListenerError } from './link.js';

/** A minimal typed event emitter: listeners run synchronously; one throwing does not stop the others. */
export class Emitter<E extends { [K in keyof E]: (...args: any[]) => void }> {
  private readonly listeners = new Map<keyof E, Set<E[keyof E]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: E[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: E[K]): void {
    this.listeners.get(event)?.delete(fn);
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (...a: Parameters<E[K]>) => void)(...args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}
