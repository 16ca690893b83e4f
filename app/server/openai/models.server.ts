import { allModelSettings, isModelHidden, modelKey } from "../models/settings.server";
import { listModels, type OllamaModel } from "../ollama/client.server";
import { toOpenAIError } from "./chat-completion.server";
import { modelNotFound } from "./errors.server";

/** Ollama names default their tag to "latest": "llama3.2" and "llama3.2:latest" are one model. */
export function canonicalModelName(name: string) {
  const lastSegment = name.split("/").at(-1) ?? name;
  return (lastSegment.includes(":") ? name : `${name}:latest`).toLowerCase();
}

function toOpenAIModel(model: OllamaModel, id = model.name) {
  const parts = model.name.split("/");
  return {
    id,
    object: "model" as const,
    created: model.modifiedAt ? Math.floor(Date.parse(model.modifiedAt) / 1000) : 0,
    // The namespace, as Ollama's own /v1 layer reports it: "library" for official models.
    owned_by: parts.length > 1 ? parts.at(-2)! : "library",
  };
}

async function installedModels() {
  try {
    return await listModels();
  } catch (error) {
    throw toOpenAIError(error, "");
  }
}

/**
 * A model an admin hid is refused exactly like one that is not installed (404 model_not_found), so
 * a caller cannot tell the two apart.
 */
export async function assertModelVisible(model: string) {
  if (await isModelHidden(model)) throw modelNotFound(model);
}

export async function listOpenAIModels(allowed: (model: string) => boolean) {
  const [models, settings] = await Promise.all([installedModels(), allModelSettings()]);
  const visible = (name: string) => !settings.byKey.get(modelKey(name))?.hidden;
  return {
    object: "list" as const,
    data: models
      .filter((model) => allowed(model.name) && visible(model.name))
      .map((model) => toOpenAIModel(model)),
  };
}

export async function retrieveOpenAIModel(id: string, allowed: (model: string) => boolean) {
  const models = await installedModels();
  // Ollama matches names case-insensitively, with the tag defaulting to "latest".
  const wanted = canonicalModelName(id).toLowerCase();
  const model = models.find((candidate) => canonicalModelName(candidate.name).toLowerCase() === wanted);
  if (!model || !allowed(model.name) || (await isModelHidden(model.name))) throw modelNotFound(id);
  return toOpenAIModel(model, id);
}
