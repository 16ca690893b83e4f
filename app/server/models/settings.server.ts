import { db } from "../db.server";
import { errorFields, log } from "../log.server";
import { forgetCachedModels } from "../ollama/client.server";
import { publish, subscribe } from "../pubsub.server";

/**
 * What admins decide about installed models: hidden or not, a display name, and the default model
 * for new chats. Read on hot paths (every /api/v1 call asks whether its model is hidden), so each
 * process keeps a copy for a few seconds; a change is announced to every replica over pub/sub,
 * which drops its copy at once. The short lifetime covers a replica that missed the message.
 */

const DEFAULT_MODEL_SETTING = "chat.default_model";
const CACHE_TTL_MS = 10_000;
const CHANGED_CHANNEL = "models:changed";

export interface ModelSettingValue {
  hidden: boolean;
  displayName: string | null;
}

interface Snapshot {
  byKey: Map<string, ModelSettingValue>;
  defaultModel: string | null;
}

/**
 * The name Ollama resolves `name` to, as a comparable key: `[host/][namespace/]model[:tag]` with
 * Ollama's defaults filled in (registry.ollama.ai, library, latest) and lower-cased, since Ollama
 * matches names case-insensitively. So `llama3.2`, `LLAMA3.2:latest` and `library/llama3.2` are
 * one model, and hiding one hides every spelling.
 */
export function modelKey(name: string) {
  let rest = name.trim().toLowerCase();
  const at = rest.indexOf("@");
  if (at >= 0) rest = rest.slice(0, at);
  const parts = rest.split("/");
  let model = parts.pop() ?? "";
  if (!model.includes(":")) model = `${model}:latest`;
  const namespace = parts.pop() ?? "library";
  const host = parts.length > 0 ? parts.join("/") : "registry.ollama.ai";
  return `${host}/${namespace}/${model}`;
}

let cache: { at: number; snapshot: Promise<Snapshot> } | undefined;

async function loadSnapshot(): Promise<Snapshot> {
  const [rows, setting] = await Promise.all([
    db().modelSetting.findMany({ select: { name: true, hidden: true, displayName: true } }),
    db().appSetting.findUnique({ where: { key: DEFAULT_MODEL_SETTING }, select: { value: true } }),
  ]);
  return {
    byKey: new Map(rows.map((row) => [row.name, { hidden: row.hidden, displayName: row.displayName }])),
    defaultModel: setting?.value ?? null,
  };
}

function snapshot(): Promise<Snapshot> {
  if (!cache || Date.now() - cache.at > CACHE_TTL_MS) {
    const loading = loadSnapshot();
    cache = { at: Date.now(), snapshot: loading };
    loading.catch(() => {
      if (cache?.snapshot === loading) cache = undefined;
    });
  }
  return cache.snapshot;
}

export async function modelSetting(name: string): Promise<ModelSettingValue> {
  return (await snapshot()).byKey.get(modelKey(name)) ?? { hidden: false, displayName: null };
}

export async function isModelHidden(name: string) {
  return (await modelSetting(name)).hidden;
}

/** Every model with settings, by key, plus the default model. */
export async function allModelSettings() {
  return snapshot();
}

/** `models` without the hidden ones. */
export async function withoutHidden<T extends { name: string }>(models: T[]): Promise<T[]> {
  const { byKey } = await snapshot();
  return models.filter((model) => !byKey.get(modelKey(model.name))?.hidden);
}

export async function defaultModel() {
  return (await snapshot()).defaultModel;
}

/**
 * Tells every replica (this one included, synchronously) that models or their settings changed:
 * each drops its cached settings, model list and context windows.
 */
export async function announceModelsChanged() {
  forgetLocally();
  await publish(CHANGED_CHANNEL).catch((error) =>
    log.warn("could not announce a model change to other replicas", errorFields(error)),
  );
}

function forgetLocally() {
  cache = undefined;
  forgetCachedModels();
}

let listening: Promise<unknown> | undefined;

/** Called at boot: other replicas' announcements clear this process's caches. */
export function listenForModelChanges() {
  listening ??= subscribe(CHANGED_CHANNEL, forgetLocally);
  return listening;
}

export async function setModelHidden(name: string, hidden: boolean) {
  const key = modelKey(name);
  await db().$transaction(async (tx) => {
    await tx.modelSetting.upsert({
      where: { name: key },
      create: { name: key, hidden },
      update: { hidden },
    });
    // A hidden model cannot stay the default: new chats would start with a model they may not use.
    if (hidden) {
      const current = await tx.appSetting.findUnique({ where: { key: DEFAULT_MODEL_SETTING } });
      if (current && modelKey(current.value) === key) {
        await tx.appSetting.delete({ where: { key: DEFAULT_MODEL_SETTING } });
      }
    }
  });
  await announceModelsChanged();
}

export async function setModelDisplayName(name: string, displayName: string | null) {
  const key = modelKey(name);
  await db().modelSetting.upsert({
    where: { name: key },
    create: { name: key, displayName },
    update: { displayName },
  });
  await announceModelsChanged();
}

/** The default model for new chats (used until a user picks one); null: the first installed model. */
export async function setDefaultModel(model: string | null) {
  if (!model) {
    await db().appSetting.deleteMany({ where: { key: DEFAULT_MODEL_SETTING } });
  } else {
    await db().appSetting.upsert({
      where: { key: DEFAULT_MODEL_SETTING },
      create: { key: DEFAULT_MODEL_SETTING, value: model },
      update: { value: model },
    });
  }
  await announceModelsChanged();
}
