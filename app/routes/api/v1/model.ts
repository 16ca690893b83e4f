import { isModelAllowed } from "~/server/api/keys.server";
import { apiEndpoint } from "~/server/openai/endpoint.server";
import { retrieveOpenAIModel } from "~/server/openai/models.server";
import type { Route } from "./+types/model";

function handle(request: Request, id: string) {
  return apiEndpoint(request, "/v1/models/{model}", "GET", async ({ principal, headers, finish }) => {
    const model = await retrieveOpenAIModel(id, (name) => isModelAllowed(principal, name));
    finish({ model: model.id, promptTokens: 0, completionTokens: 0, status: 200 });
    return Response.json(model, { headers });
  });
}

/** The id may arrive with "/" encoded as %2F (the openai clients do that) or not. */
function modelId(splat: string | undefined) {
  try {
    return decodeURIComponent(splat ?? "");
  } catch {
    return splat ?? "";
  }
}

export const loader = ({ request, params }: Route.LoaderArgs) => handle(request, modelId(params["*"]));
export const action = ({ request, params }: Route.ActionArgs) => handle(request, modelId(params["*"]));
