import { db } from "../db.server";
import { cachedModels, type OllamaModel } from "../ollama/client.server";

const DEFAULT_MODEL_SETTING = "chat.default_model";

export interface ModelChoices {
  models: OllamaModel[];
  /** Why there are no models to offer: Ollama unreachable, or nothing installed. */
  problem?: "unreachable" | "empty";
  /** The model a new chat starts with: the user's last choice, else the admin default, else the first. */
  defaultModel?: string;
}

export async function modelChoices(userId: string): Promise<ModelChoices> {
  let models: OllamaModel[];
  try {
    models = await cachedModels();
  } catch {
    return { models: [], problem: "unreachable" };
  }
  if (models.length === 0) return { models, problem: "empty" };
  const [user, setting] = await Promise.all([
    db().user.findUnique({ where: { id: userId }, select: { lastModel: true } }),
    db().appSetting.findUnique({ where: { key: DEFAULT_MODEL_SETTING }, select: { value: true } }),
  ]);
  const installed = new Set(models.map((model) => model.name));
  const defaultModel = [user?.lastModel, setting?.value].find((name) => name && installed.has(name));
  return { models, defaultModel: defaultModel ?? models[0].name };
}

export async function adminDefaultModel() {
  const setting = await db().appSetting.findUnique({ where: { key: DEFAULT_MODEL_SETTING } });
  return setting?.value ?? null;
}

export async function setAdminDefaultModel(model: string | null) {
  if (!model) {
    await db().appSetting.deleteMany({ where: { key: DEFAULT_MODEL_SETTING } });
    return;
  }
  await db().appSetting.upsert({
    where: { key: DEFAULT_MODEL_SETTING },
    create: { key: DEFAULT_MODEL_SETTING, value: model },
    update: { value: model },
  });
}
