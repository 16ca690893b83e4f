import { fromWebRequest, toWebResponse } from "~/server/openai/exchange.server";
import { handleApiRequest } from "~/server/openai/router.server";
import type { Route } from "./+types/v1";

/**
 * Every /api/v1 endpoint, through React Router. server.ts normally answers these before React
 * Router sees them (API_FAST_PATH); this route serves the same handlers everywhere else.
 */
async function serve(request: Request) {
  return toWebResponse(await handleApiRequest(fromWebRequest(request)));
}

export const loader = ({ request }: Route.LoaderArgs) => serve(request);
export const action = ({ request }: Route.ActionArgs) => serve(request);
