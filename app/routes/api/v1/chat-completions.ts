import { assertModelAllowed } from "~/server/api/keys.server";
import { createChatCompletion } from "~/server/openai/chat-completion.server";
import { parseChatCompletionRequest } from "~/server/openai/chat-request.server";
import { apiEndpoint } from "~/server/openai/endpoint.server";
import { readJsonBody } from "~/server/openai/request.server";
import type { Route } from "./+types/chat-completions";

function handle(request: Request) {
  return apiEndpoint(request, "/v1/chat/completions", "POST", async ({ principal, headers, finish }) => {
    const body = parseChatCompletionRequest(await readJsonBody(request));
    assertModelAllowed(principal, body.model);
    return createChatCompletion(body, request.signal, headers, finish);
  });
}

export const action = ({ request }: Route.ActionArgs) => handle(request);
export const loader = ({ request }: Route.LoaderArgs) => handle(request);
