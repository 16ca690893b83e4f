import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { env } from "./env.server";
import { errorFields, log } from "./log.server";
import { redis } from "./redis.server";

/**
 * Messages to every replica (Redis pub/sub), or to this process alone when Redis is not configured.
 * One subscriber connection per process serves every channel. Delivery is best effort: a replica
 * that is disconnected from Redis misses messages, so whoever relies on them also has a fallback
 * (a short cache lifetime, a lease, a poll).
 */
type Listener = (message: string) => void;

let subscriber: Redis | undefined;
const listeners = new Map<string, Set<Listener>>();
const local = new EventEmitter().setMaxListeners(0);

function channelName(channel: string) {
  // ioredis does not prefix channel names; the key prefix keeps deployments sharing a Redis apart.
  return `${env().REDIS_KEY_PREFIX}${channel}`;
}

function ensureSubscriber(client: Redis) {
  if (subscriber) return subscriber;
  subscriber = client.duplicate();
  subscriber.on("error", (error) => log.warn("redis subscriber error", errorFields(error)));
  subscriber.on("message", (channel: string, message: string) => {
    for (const listener of listeners.get(channel) ?? []) {
      try {
        listener(message);
      } catch (error) {
        log.error("pub/sub listener failed", { channel, ...errorFields(error) });
      }
    }
  });
  return subscriber;
}

/** Calls `listener` for each message on `channel`; resolves once subscribed. Returns an unsubscribe. */
export async function subscribe(channel: string, listener: Listener): Promise<() => void> {
  const client = redis();
  if (!client) {
    local.on(channel, listener);
    return () => local.off(channel, listener);
  }
  const name = channelName(channel);
  let set = listeners.get(name);
  if (!set) {
    set = new Set();
    listeners.set(name, set);
    await ensureSubscriber(client)
      .subscribe(name)
      .catch((error) => log.warn("redis subscribe failed", { channel, ...errorFields(error) }));
  }
  set.add(listener);
  return () => {
    const current = listeners.get(name);
    current?.delete(listener);
    if (current && current.size === 0) {
      listeners.delete(name);
      subscriber?.unsubscribe(name).catch(() => {});
    }
  };
}

export async function publish(channel: string, message = "") {
  const client = redis();
  if (!client) {
    local.emit(channel, message);
    return;
  }
  await client.publish(channelName(channel), message);
}

export function closePubSub() {
  const current = subscriber;
  subscriber = undefined;
  listeners.clear();
  local.removeAllListeners();
  current?.disconnect();
}
