import { isModelAllowed } from "~/server/api/keys.server";
import { apiEndpoint } from "~/server/openai/endpoint.server";
import { listOpenAIModels } from "~/server/openai/models.server";
import type { Route } from "./+types/models";

function handle(request: Request) {
  return apiEndpoint(request, "/v1/models", "GET", async ({ principal, headers, finish }) => {
    const list = await listOpenAIModels((model) => isModelAllowed(principal, model));
    finish({ model: "", promptTokens: 0, completionTokens: 0, status: 200 });
    return Response.json(list, { headers });
  });
}

export const loader = ({ request }: Route.LoaderArgs) => handle(request);
export const action = ({ request }: Route.ActionArgs) => handle(request);
