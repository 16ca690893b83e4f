import { listModels, OllamaError, type OllamaModel } from "../ollama/client.server";
import {
  deleteModel,
  type LoadedModel,
  loadedModels,
  type ModelDetails,
  showModel,
} from "../ollama/manage.server";
import { isPulling, listPulls } from "./pulls.server";
import {
  allModelSettings,
  announceModelsChanged,
  modelKey,
  setDefaultModel,
  setModelDisplayName,
  setModelHidden,
} from "./settings.server";

/** What /admin/models shows and does, apart from pulls (pulls.server.ts). */

/** A refusal to show on the page, with the HTTP status the action answers. */
export class ModelAdminError extends Error {
  constructor(
    message: string,
    public status: number,
  ) {
    super(message);
  }
}

export interface AdminModel extends OllamaModel {
  loaded: LoadedModel | null;
  hidden: boolean;
  displayName: string | null;
  isDefault: boolean;
}

/** Installed models with their settings and memory state; `problem` when Ollama cannot be asked. */
export async function adminModels() {
  const [installed, loaded, settings, pulls] = await Promise.all([
    listModels().then(
      (models) => ({ models }),
      (error: Error) => ({ models: [] as OllamaModel[], problem: error.message }),
    ),
    loadedModels().catch(() => [] as LoadedModel[]),
    allModelSettings(),
    listPulls(),
  ]);
  const loadedByKey = new Map(loaded.map((model) => [modelKey(model.name), model]));
  const defaultKey = settings.defaultModel ? modelKey(settings.defaultModel) : null;
  const models: AdminModel[] = installed.models.map((model) => {
    const key = modelKey(model.name);
    const setting = settings.byKey.get(key);
    return {
      ...model,
      loaded: loadedByKey.get(key) ?? null,
      hidden: setting?.hidden ?? false,
      displayName: setting?.displayName ?? null,
      isDefault: key === defaultKey,
    };
  });
  return {
    models,
    problem: "problem" in installed ? installed.problem : null,
    defaultModel: models.find((model) => model.isDefault)?.name ?? null,
    pulls,
  };
}

/** The installed model named `name` (any spelling Ollama accepts), or a 404 refusal. */
async function requireInstalled(name: string): Promise<OllamaModel> {
  let models: OllamaModel[];
  try {
    models = await listModels();
  } catch (error) {
    throw new ModelAdminError(error instanceof Error ? error.message : String(error), 503);
  }
  const key = modelKey(name);
  const model = models.find((candidate) => modelKey(candidate.name) === key);
  if (!model) throw new ModelAdminError(`The model ${name} is not installed.`, 404);
  return model;
}

export interface AdminModelDetails extends AdminModel {
  details: ModelDetails | null;
  /** Why /api/show gave nothing. */
  detailsProblem: string | null;
  pulling: boolean;
}

export async function adminModelDetails(name: string): Promise<AdminModelDetails> {
  const model = await requireInstalled(name);
  const [details, loaded, settings, pulling] = await Promise.all([
    showModel(model.name).then(
      (value) => ({ value, problem: null }),
      (error: Error) => ({ value: null, problem: error.message }),
    ),
    loadedModels().catch(() => [] as LoadedModel[]),
    allModelSettings(),
    isPulling(model.name),
  ]);
  const key = modelKey(model.name);
  const setting = settings.byKey.get(key);
  return {
    ...model,
    loaded: loaded.find((candidate) => modelKey(candidate.name) === key) ?? null,
    hidden: setting?.hidden ?? false,
    displayName: setting?.displayName ?? null,
    isDefault: settings.defaultModel ? modelKey(settings.defaultModel) === key : false,
    details: details.value,
    detailsProblem: details.problem,
    pulling,
  };
}

export async function updateModelSettings(
  name: string,
  input: { hidden: boolean; displayName: string | null },
) {
  const model = await requireInstalled(name);
  const current = (await allModelSettings()).byKey.get(modelKey(model.name));
  const changes: string[] = [];
  if ((current?.displayName ?? null) !== input.displayName) {
    await setModelDisplayName(model.name, input.displayName);
    changes.push("display-name");
  }
  if ((current?.hidden ?? false) !== input.hidden) {
    await setModelHidden(model.name, input.hidden);
    changes.push(input.hidden ? "hidden" : "shown");
  }
  return { model: model.name, changes };
}

/** Sets (or with null clears) the default model for new chats; it must be installed and visible. */
export async function chooseDefaultModel(name: string | null) {
  if (name === null) {
    await setDefaultModel(null);
    return null;
  }
  const model = await requireInstalled(name);
  if ((await allModelSettings()).byKey.get(modelKey(model.name))?.hidden) {
    throw new ModelAdminError(
      `${model.name} is hidden from users; show it first to make it the default.`,
      400,
    );
  }
  await setDefaultModel(model.name);
  return model.name;
}

/** Deletes an installed model from Ollama; refused while it is being pulled. */
export async function deleteInstalledModel(name: string) {
  // Checked first: during a first pull the model is not installed yet, and "being pulled" is the
  // more useful answer than "not installed".
  if (await isPulling(name)) {
    throw new ModelAdminError(
      `${name} is being pulled right now. Cancel the pull or wait for it to finish, then delete it.`,
      409,
    );
  }
  const model = await requireInstalled(name);
  try {
    await deleteModel(model.name);
  } catch (error) {
    if (error instanceof OllamaError) {
      throw new ModelAdminError(
        `Ollama could not delete ${model.name}: ${error.message}`,
        error.status === 404 ? 404 : 502,
      );
    }
    throw error;
  }
  await announceModelsChanged();
  return model.name;
}
