import { OpenAIError } from "~/server/openai/errors.server";
import type { Route } from "./+types/not-found";

/** Anything else under /api/v1 answers in the OpenAI envelope, as OpenAI does. */
function unknownUrl(request: Request) {
  const { pathname } = new URL(request.url);
  return new OpenAIError(
    404,
    `Unknown request URL: ${request.method} ${pathname}. See /docs/api for the endpoints.`,
    "invalid_request_error",
    "unknown_url",
  ).toResponse();
}

export const loader = ({ request }: Route.LoaderArgs) => unknownUrl(request);
export const action = ({ request }: Route.ActionArgs) => unknownUrl(request);
