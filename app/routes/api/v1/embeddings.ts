import { assertModelAllowed } from "~/server/api/keys.server";
import { createEmbeddings, parseEmbeddingRequest } from "~/server/openai/embeddings.server";
import { apiEndpoint } from "~/server/openai/endpoint.server";
import { readJsonBody } from "~/server/openai/request.server";
import type { Route } from "./+types/embeddings";

function handle(request: Request) {
  return apiEndpoint(request, "/v1/embeddings", "POST", async ({ principal, headers, finish }) => {
    const body = parseEmbeddingRequest(await readJsonBody(request));
    assertModelAllowed(principal, body.model);
    const result = await createEmbeddings(body, request.signal);
    finish({ model: body.model, promptTokens: result.promptTokens, completionTokens: 0, status: 200 });
    return Response.json(result.body, { headers });
  });
}

export const action = ({ request }: Route.ActionArgs) => handle(request);
export const loader = ({ request }: Route.LoaderArgs) => handle(request);
