import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import { redis } from "../redis.server";

/**
 * The live output of replies being generated, readable from every replica.
 *
 * A generation appends events (text deltas, then one final event) to a per-message log; readers
 * replay the log from any position and then follow it. That is what lets a reloaded page, on
 * whichever replica, reattach to a reply that another replica is still writing. With Redis the log
 * is a Redis stream (with a TTL) and a pub/sub channel wakes readers; without Redis it lives in
 * this process. Stop requests travel the same way, to whichever replica owns the generation.
 */

export type LiveEvent =
  | { type: "delta"; text: string }
  | { type: "thinking"; text: string }
  | { type: "end"; status: "complete" | "stopped" | "failed"; error?: string };

/** An event and its position in the log; pass the position back to resume after it. */
export interface PositionedEvent {
  position: string;
  event: LiveEvent;
}

interface LiveStore {
  append(messageId: string, events: LiveEvent[]): Promise<void>;
  /** Events after `after` (or from the start), then every new one, until the end event. */
  follow(messageId: string, after: string | undefined, signal: AbortSignal): AsyncIterable<PositionedEvent>;
  /** True while the owner of the generation is alive (it renews a lease). */
  isAlive(messageId: string): Promise<boolean>;
  renewLease(messageId: string): Promise<void>;
  requestStop(messageId: string): Promise<void>;
  onStopRequest(listener: (messageId: string) => void): void;
  close(): Promise<void>;
}

/** How long a finished reply's log stays readable, so late readers still see its end. */
const LOG_TTL_SECONDS = 600;
/** The owning replica renews its lease this often; a lease outlives a few missed renewals. */
export const LEASE_RENEW_MS = 5000;
const LEASE_TTL_MS = 20_000;

class MemoryLiveStore implements LiveStore {
  private logs = new Map<string, { events: LiveEvent[]; leaseUntil: number }>();
  private emitter = new EventEmitter().setMaxListeners(0);

  private logFor(messageId: string) {
    let log = this.logs.get(messageId);
    if (!log) {
      log = { events: [], leaseUntil: Date.now() + LEASE_TTL_MS };
      this.logs.set(messageId, log);
    }
    return log;
  }

  async append(messageId: string, events: LiveEvent[]) {
    this.logFor(messageId).events.push(...events);
    if (events.some((event) => event.type === "end")) {
      setTimeout(() => this.logs.delete(messageId), LOG_TTL_SECONDS * 1000).unref();
    }
    this.emitter.emit(`append:${messageId}`);
  }

  async *follow(messageId: string, after: string | undefined, signal: AbortSignal) {
    let next = after === undefined ? 0 : Number(after) + 1;
    for (;;) {
      const events = this.logs.get(messageId)?.events ?? [];
      while (next < events.length) {
        const event = events[next];
        yield { position: String(next), event };
        next++;
        if (event.type === "end") return;
      }
      if (signal.aborted || !(await this.waitForAppend(messageId, signal))) return;
    }
  }

  private waitForAppend(messageId: string, signal: AbortSignal) {
    return new Promise<boolean>((resolve) => {
      const done = (appended: boolean) => {
        this.emitter.off(`append:${messageId}`, onAppend);
        signal.removeEventListener("abort", onAbort);
        resolve(appended);
      };
      const onAppend = () => done(true);
      const onAbort = () => done(false);
      this.emitter.on(`append:${messageId}`, onAppend);
      signal.addEventListener("abort", onAbort);
    });
  }

  async isAlive(messageId: string) {
    const log = this.logs.get(messageId);
    return Boolean(log && log.leaseUntil > Date.now());
  }

  async renewLease(messageId: string) {
    this.logFor(messageId).leaseUntil = Date.now() + LEASE_TTL_MS;
  }

  async requestStop(messageId: string) {
    this.emitter.emit("stop", messageId);
  }

  onStopRequest(listener: (messageId: string) => void) {
    this.emitter.on("stop", listener);
  }

  async close() {}
}

class RedisLiveStore implements LiveStore {
  private subscriber: Redis;
  private wakers = new Map<string, Set<() => void>>();
  private stopListeners: Array<(messageId: string) => void> = [];
  private prefix: string;

  constructor(private client: Redis) {
    this.prefix = env().REDIS_KEY_PREFIX;
    // Pub/sub needs a connection of its own; channel names are not prefixed by ioredis.
    this.subscriber = client.duplicate();
    this.subscriber.on("error", (error) => log.warn("redis subscriber error", errorFields(error)));
    this.subscriber.subscribe(this.channel("stop")).catch(() => {});
    this.subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.channel("stop")) {
        for (const listener of this.stopListeners) listener(message);
        return;
      }
      for (const wake of this.wakers.get(channel) ?? []) wake();
    });
  }

  private channel(name: string) {
    return `${this.prefix}live:${name}`;
  }

  async append(messageId: string, events: LiveEvent[]) {
    const key = `live:${messageId}`;
    const pipeline = this.client.multi();
    for (const event of events) pipeline.xadd(key, "*", "e", JSON.stringify(event));
    pipeline.expire(key, LOG_TTL_SECONDS);
    pipeline.publish(this.channel(`m:${messageId}`), "");
    await pipeline.exec();
  }

  async *follow(messageId: string, after: string | undefined, signal: AbortSignal) {
    const channel = this.channel(`m:${messageId}`);
    let woken = false;
    let wake: (() => void) | undefined;
    const waker = () => {
      woken = true;
      wake?.();
    };
    let listeners = this.wakers.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.wakers.set(channel, listeners);
      await this.subscriber.subscribe(channel);
    }
    listeners.add(waker);
    try {
      let cursor = after ?? "-";
      for (;;) {
        woken = false;
        // Exclusive range start "(" resumes after the last position seen.
        const start = cursor === "-" ? "-" : `(${cursor}`;
        const entries = await this.client.xrange(`live:${messageId}`, start, "+");
        for (const [position, fields] of entries) {
          cursor = position;
          const event = JSON.parse(fields[1]) as LiveEvent;
          yield { position, event };
          if (event.type === "end") return;
        }
        if (signal.aborted) return;
        if (!woken) {
          // Also poll now and then: a wake-up published between XRANGE and here is not lost,
          // and a dead owner is noticed by the caller through isAlive.
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              // Each wait adds its own listener; remove it, or a long reply piles them up.
              signal.removeEventListener("abort", done);
              resolve();
            };
            const timer = setTimeout(done, 1000);
            wake = done;
            signal.addEventListener("abort", done, { once: true });
          });
          wake = undefined;
        }
        if (signal.aborted) return;
      }
    } finally {
      listeners.delete(waker);
      if (listeners.size === 0) {
        this.wakers.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => {});
      }
    }
  }

  async isAlive(messageId: string) {
    return (await this.client.exists(`live-lease:${messageId}`)) === 1;
  }

  async renewLease(messageId: string) {
    await this.client.set(`live-lease:${messageId}`, "1", "PX", LEASE_TTL_MS);
  }

  async requestStop(messageId: string) {
    await this.client.publish(this.channel("stop"), messageId);
  }

  onStopRequest(listener: (messageId: string) => void) {
    this.stopListeners.push(listener);
  }

  async close() {
    this.subscriber.disconnect();
  }
}

let store: LiveStore | undefined;

export function liveStore(): LiveStore {
  if (!store) {
    const client = redis();
    store = client ? new RedisLiveStore(client) : new MemoryLiveStore();
  }
  return store;
}

export async function closeLiveStore() {
  const current = store;
  store = undefined;
  await current?.close();
}
