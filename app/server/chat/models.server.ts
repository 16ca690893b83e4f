import { db } from "../db.server";
import { allModelSettings, modelKey } from "../models/settings.server";
import { cachedModels, type OllamaModel } from "../ollama/client.server";

/** A model the chat picker offers: Ollama's details plus the admin's display name. */
export interface PickerModel extends OllamaModel {
  displayName: string | null;
}

export interface ModelChoices {
  models: PickerModel[];
  /** Why there are no models to offer: Ollama unreachable, or nothing installed (or all hidden). */
  problem?: "unreachable" | "empty";
  /** The model a new chat starts with: the user's last choice, else the admin default, else the first. */
  defaultModel?: string;
}

/** The models users may chat with: installed ones, minus those an admin hid (see /admin/models). */
export async function modelChoices(userId: string): Promise<ModelChoices> {
  const settingsLoading = allModelSettings();
  let installed: OllamaModel[];
  try {
    installed = await cachedModels();
  } catch {
    settingsLoading.catch(() => {});
    return { models: [], problem: "unreachable" };
  }
  const settings = await settingsLoading;
  const models = installed
    .map((model) => ({ model, setting: settings.byKey.get(modelKey(model.name)) }))
    .filter(({ setting }) => !setting?.hidden)
    .map(({ model, setting }) => ({ ...model, displayName: setting?.displayName ?? null }));
  if (models.length === 0) return { models, problem: "empty" };
  const user = await db().user.findUnique({ where: { id: userId }, select: { lastModel: true } });
  const offered = new Set(models.map((model) => model.name));
  const defaultModel = [user?.lastModel, settings.defaultModel].find((name) => name && offered.has(name));
  return { models, defaultModel: defaultModel ?? models[0].name };
}

/**
 * A model name for examples people copy (the API docs): the admin's default if it is installed and
 * visible, else the first visible installed model, else a well-known name when Ollama has none yet.
 */
export async function exampleModel(): Promise<{ name: string; installed: boolean }> {
  try {
    const [installed, settings] = await Promise.all([cachedModels(), allModelSettings()]);
    const visible = installed.filter((model) => !settings.byKey.get(modelKey(model.name))?.hidden);
    const chosen = visible.find((model) => model.name === settings.defaultModel) ?? visible[0];
    if (chosen) return { name: chosen.name, installed: true };
  } catch {
    // Ollama unreachable: the docs still render, with a placeholder name.
  }
  return { name: "llama3.2", installed: false };
}
