import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { recordAuditEvent } from "../admin/audit.server";
import { errorFields, log } from "../log.server";
import { OllamaError } from "../ollama/client.server";
import { type PullLine, pullModel } from "../ollama/manage.server";
import { publish, subscribe } from "../pubsub.server";
import { redis } from "../redis.server";
import { announceModelsChanged, modelKey } from "./settings.server";

/**
 * Model pulls, owned by the server rather than by the page that started them.
 *
 * The replica that receives "pull" claims the model's pull with a lease (Redis SET NX, or a map in
 * process without Redis), runs Ollama's /api/pull in the background and writes the pull's state
 * (status line, bytes summed across layers, speed, time left) to a shared record a few times a
 * second, announcing each write on a pub/sub channel. Pages on any replica read that record and
 * follow it over SSE, so a reload or a second admin sees the same pull; a second "pull" of the same
 * model finds the lease taken and shares the running pull. Cancel is a pub/sub request that the
 * owning replica answers by closing its Ollama request, which is how Ollama is told to stop.
 * See docs/admin-models.md.
 */

export type PullStatus = "running" | "success" | "failed" | "cancelled";

export interface PullState {
  /** modelKey(name): one pull per model however its name is spelled. */
  key: string;
  /** The name as the admin typed it (and as it was sent to Ollama). */
  name: string;
  status: PullStatus;
  /** Ollama's current status line: "pulling manifest", "pulling 6a0746a1ec1a", "verifying sha256 digest"... */
  line: string;
  /** Bytes done and known so far, summed over the layers Ollama has announced. */
  completed: number;
  total: number;
  /** 0–100; does not go back when Ollama announces a further layer. */
  percent: number;
  bytesPerSecond: number | null;
  secondsLeft: number | null;
  /** Ollama's message when the pull failed. */
  error?: string;
  startedAt: number;
  updatedAt: number;
}

export const isFinished = (state: PullState) => state.status !== "running";

/** How long a finished pull stays listed (so its outcome is seen), unless dismissed. */
const FINISHED_TTL_SECONDS = 24 * 3600;
const LEASE_RENEW_MS = 5000;
const LEASE_TTL_MS = 20_000;
/** Ollama sends a line per layer every 60 ms; the shared record is written at most this often. */
const WRITE_EVERY_MS = 250;

interface PullStore {
  /** Takes the pull of `key` for this replica; false when another pull of it holds the lease. */
  claim(key: string): Promise<boolean>;
  renew(key: string): Promise<void>;
  release(key: string): Promise<void>;
  isAlive(key: string): Promise<boolean>;
  read(key: string): Promise<PullState | null>;
  write(state: PullState): Promise<void>;
  list(): Promise<PullState[]>;
  remove(key: string): Promise<void>;
}

class MemoryPullStore implements PullStore {
  private states = new Map<string, PullState>();
  private leases = new Set<string>();

  async claim(key: string) {
    if (this.leases.has(key)) return false;
    this.leases.add(key);
    return true;
  }
  async renew() {}
  async release(key: string) {
    this.leases.delete(key);
  }
  async isAlive(key: string) {
    return this.leases.has(key);
  }
  async read(key: string) {
    return this.states.get(key) ?? null;
  }
  async write(state: PullState) {
    this.states.set(state.key, state);
  }
  async list() {
    const cutoff = Date.now() - FINISHED_TTL_SECONDS * 1000;
    for (const [key, state] of this.states) {
      if (isFinished(state) && state.updatedAt < cutoff) this.states.delete(key);
    }
    return [...this.states.values()];
  }
  async remove(key: string) {
    this.states.delete(key);
  }
}

class RedisPullStore implements PullStore {
  private owner = randomBytes(8).toString("hex");

  constructor(private client: Redis) {}

  async claim(key: string) {
    return (await this.client.set(`pull:lease:${key}`, this.owner, "PX", LEASE_TTL_MS, "NX")) === "OK";
  }
  async renew(key: string) {
    await this.client.set(`pull:lease:${key}`, this.owner, "PX", LEASE_TTL_MS);
  }
  async release(key: string) {
    // Only our own lease: if ours ran out and another replica claimed the model since, keep theirs.
    if ((await this.client.get(`pull:lease:${key}`)) === this.owner)
      await this.client.del(`pull:lease:${key}`);
  }
  async isAlive(key: string) {
    return (await this.client.exists(`pull:lease:${key}`)) === 1;
  }
  async read(key: string) {
    const text = await this.client.get(`pull:state:${key}`);
    return text ? (JSON.parse(text) as PullState) : null;
  }
  async write(state: PullState) {
    await this.client
      .multi()
      .set(`pull:state:${state.key}`, JSON.stringify(state), "EX", FINISHED_TTL_SECONDS)
      .sadd("pull:index", state.key)
      .exec();
  }
  async list() {
    const keys = await this.client.smembers("pull:index");
    if (keys.length === 0) return [];
    const texts = await this.client.mget(...keys.map((key) => `pull:state:${key}`));
    const expired = keys.filter((_, index) => !texts[index]);
    if (expired.length > 0) await this.client.srem("pull:index", ...expired);
    return texts.filter((text): text is string => Boolean(text)).map((text) => JSON.parse(text) as PullState);
  }
  async remove(key: string) {
    await this.client.multi().del(`pull:state:${key}`).srem("pull:index", key).exec();
  }
}

let store: PullStore | undefined;
function pullStore(): PullStore {
  if (!store) {
    const client = redis();
    store = client ? new RedisPullStore(client) : new MemoryPullStore();
  }
  return store;
}

const updatesChannel = (key: string) => `pull:${key}`;
const CANCEL_CHANNEL = "pulls:cancel";

async function save(state: PullState) {
  await pullStore().write(state);
  await publish(updatesChannel(state.key), "").catch(() => {});
}

// ---- the pulls this replica runs ----

class CancelRequested extends Error {}
class ShuttingDown extends Error {}

const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
let cancelListener: Promise<unknown> | undefined;

function listenForCancels() {
  cancelListener ??= subscribe(CANCEL_CHANNEL, (key) => {
    running.get(key)?.controller.abort(new CancelRequested());
  });
  return cancelListener;
}

/** Bytes summed over layers, and speed over the last few seconds. */
class Progress {
  private layers = new Map<string, { total: number; completed: number }>();
  private samples: Array<{ at: number; completed: number }> = [];
  percent = 0;
  line = "starting";

  add(line: PullLine) {
    if (line.status) this.line = line.status;
    if (line.digest && (line.total ?? 0) > 0) {
      this.layers.set(line.digest, { total: line.total ?? 0, completed: line.completed ?? 0 });
    }
  }

  snapshot(now: number) {
    let completed = 0;
    let total = 0;
    for (const layer of this.layers.values()) {
      completed += Math.min(layer.completed, layer.total);
      total += layer.total;
    }
    this.samples.push({ at: now, completed });
    while (this.samples.length > 2 && now - this.samples[0].at > 5000) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.at) / 1000;
    const bytesPerSecond = seconds >= 0.5 ? Math.max(0, (completed - first.completed) / seconds) : null;
    if (total > 0) this.percent = Math.max(this.percent, Math.floor((completed / total) * 100));
    const secondsLeft =
      bytesPerSecond && bytesPerSecond > 0 && total > completed
        ? Math.ceil((total - completed) / bytesPerSecond)
        : null;
    return { completed, total, percent: this.percent, bytesPerSecond, secondsLeft, line: this.line };
  }
}

async function runPull(initial: PullState, signal: AbortSignal) {
  const key = initial.key;
  const lease = setInterval(
    () =>
      pullStore()
        .renew(key)
        .catch(() => {}),
    LEASE_RENEW_MS,
  );
  const progress = new Progress();
  let state = initial;
  let lastWrite = 0;
  let lastLine = initial.line;
  try {
    for await (const line of pullModel(initial.name, signal)) {
      progress.add(line);
      const now = Date.now();
      // A new status line is shown at once; byte counts a few times a second.
      if (now - lastWrite >= WRITE_EVERY_MS || progress.line !== lastLine) {
        state = { ...state, ...progress.snapshot(now), updatedAt: now };
        lastWrite = now;
        lastLine = progress.line;
        await save(state);
      }
    }
    // Every replica's model lists must show the new model before the page hears "success".
    await announceModelsChanged();
    state = {
      ...state,
      ...progress.snapshot(Date.now()),
      status: "success",
      line: "success",
      percent: 100,
      secondsLeft: null,
    };
    log.info("model pulled", { model: initial.name });
    recordPullOutcome("model.pull_finished", initial.name);
  } catch (error) {
    const reason = signal.aborted ? signal.reason : undefined;
    if (reason instanceof CancelRequested) {
      state = { ...state, status: "cancelled", line: "cancelled", bytesPerSecond: null, secondsLeft: null };
      log.info("model pull cancelled", { model: initial.name });
      // Recorded by the cancel action, which knows the admin who asked.
    } else {
      const message =
        reason instanceof ShuttingDown
          ? "The server restarted during the pull. Start it again: Ollama resumes from what it already downloaded."
          : error instanceof OllamaError
            ? error.message
            : "The pull failed unexpectedly.";
      if (!(error instanceof OllamaError) && !(reason instanceof ShuttingDown))
        log.error("model pull crashed", { model: initial.name, ...errorFields(error) });
      state = {
        ...state,
        status: "failed",
        line: "failed",
        error: message,
        bytesPerSecond: null,
        secondsLeft: null,
      };
      // A shutdown is an interruption, not a failure of the pull.
      if (!(reason instanceof ShuttingDown)) recordPullOutcome("model.pull_failed", initial.name, message);
    }
  } finally {
    clearInterval(lease);
  }
  state = { ...state, updatedAt: Date.now() };
  await save(state).catch((error) => log.warn("could not save the end of a pull", errorFields(error)));
  await pullStore()
    .release(key)
    .catch(() => {});
}

/**
 * Starts pulling `name`, or joins the pull of it that is already running (on any replica).
 * Resolves as soon as the pull is claimed; the pull itself runs in the background.
 */
/** The system's own record of how a pull ended (no admin acts here); never fails the pull. */
function recordPullOutcome(
  action: "model.pull_finished" | "model.pull_failed",
  model: string,
  error?: string,
) {
  recordAuditEvent({
    actorId: null,
    action,
    targetType: "model",
    targetId: model,
    ...(error ? { after: { error } } : {}),
    ip: null,
  }).catch((failure) =>
    log.warn("could not record a pull in the audit log", { model, ...errorFields(failure) }),
  );
}

export async function startPull(name: string): Promise<{ state: PullState; joined: boolean }> {
  const key = modelKey(name);
  await listenForCancels();
  if (!(await pullStore().claim(key))) {
    const current = await pullStore().read(key);
    if (current && !isFinished(current)) return { state: current, joined: true };
    // Claimed a moment ago by another request that has not written its first state yet.
    return { state: current ?? freshState(key, name), joined: true };
  }
  const state = freshState(key, name);
  await save(state);
  const controller = new AbortController();
  const done = runPull(state, controller.signal)
    .catch((error) => log.error("model pull crashed", { model: name, ...errorFields(error) }))
    .finally(() => running.delete(key));
  running.set(key, { controller, done });
  return { state, joined: false };
}

function freshState(key: string, name: string): PullState {
  const now = Date.now();
  return {
    key,
    name,
    status: "running",
    line: "starting",
    completed: 0,
    total: 0,
    percent: 0,
    bytesPerSecond: null,
    secondsLeft: null,
    startedAt: now,
    updatedAt: now,
  };
}

/**
 * A pull still "running" whose owner no longer renews its lease (its replica died without a
 * shutdown) is closed as failed when someone looks at it.
 */
async function settle(state: PullState): Promise<PullState> {
  if (isFinished(state) || (await pullStore().isAlive(state.key))) return state;
  const failed: PullState = {
    ...state,
    status: "failed",
    line: "failed",
    error:
      "The server running this pull stopped. Start it again: Ollama resumes from what it already downloaded.",
    bytesPerSecond: null,
    secondsLeft: null,
    updatedAt: Date.now(),
  };
  await save(failed);
  return failed;
}

export async function pullState(name: string): Promise<PullState | null> {
  const state = await pullStore().read(modelKey(name));
  return state ? settle(state) : null;
}

/** Running pulls first, then finished ones, newest first. */
export async function listPulls(): Promise<PullState[]> {
  const states = await Promise.all((await pullStore().list()).map(settle));
  return states.sort((a, b) => Number(isFinished(a)) - Number(isFinished(b)) || b.startedAt - a.startedAt);
}

/** True while a pull of this model runs anywhere. */
export async function isPulling(name: string) {
  const state = await pullState(name);
  return Boolean(state && !isFinished(state));
}

/**
 * Asks whichever replica runs the pull to stop it, and waits (a few seconds at most) until it has,
 * so the page that asked shows the outcome. Returns the latest state (null: no such pull).
 */
export async function cancelPull(name: string): Promise<PullState | null> {
  const key = modelKey(name);
  const state = await pullState(name);
  if (!state || isFinished(state)) return state;
  const local = running.get(key);
  if (local) local.controller.abort(new CancelRequested());
  else await publish(CANCEL_CHANNEL, key);
  const deadline = Date.now() + 5000;
  for (;;) {
    const latest = await pullStore().read(key);
    if (!latest || isFinished(latest) || Date.now() > deadline) return latest;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Forgets a finished pull (the admin has seen its outcome). Running pulls stay. */
export async function dismissPull(name: string) {
  const state = await pullState(name);
  if (state && isFinished(state)) await pullStore().remove(state.key);
}

/**
 * The state now and after every change, until the pull finishes or `signal` fires. Changes are
 * announced over pub/sub; a slow poll covers a missed announcement and notices a dead owner.
 */
export async function* followPull(name: string, signal: AbortSignal): AsyncGenerator<PullState> {
  const key = modelKey(name);
  const wake = new EventEmitter();
  const unsubscribe = await subscribe(updatesChannel(key), () => wake.emit("wake"));
  try {
    let lastUpdate = -1;
    let polls = 0;
    while (!signal.aborted) {
      let state = await pullStore().read(key);
      if (!state) return;
      if (++polls % 10 === 0) state = await settle(state);
      if (state.updatedAt !== lastUpdate || isFinished(state)) {
        lastUpdate = state.updatedAt;
        yield state;
        if (isFinished(state)) return;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake.off("wake", done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, 1000);
        wake.once("wake", done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  } finally {
    unsubscribe();
  }
}

/**
 * Waits (up to `ms`) until the pull has got past "pulling manifest" or finished, so a page
 * rendered right after starting it already shows an unknown model's error or the first bytes.
 */
export async function waitForProgress(name: string, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const state = await pullStore().read(modelKey(name));
    if (!state || isFinished(state) || state.total > 0 || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** At shutdown: this replica's pulls are stopped and recorded as interrupted. */
export async function abortAllPulls() {
  const pulls = [...running.values()];
  for (const pull of pulls) pull.controller.abort(new ShuttingDown());
  await Promise.allSettled(pulls.map((pull) => pull.done));
}
