import { requireAnonymous } from "~/server/auth.server";
import { finishOAuthSignIn } from "~/server/oauth.server";
import { clientIpContext } from "~/server/request-context.server";
import type { Route } from "./+types/oauth-callback";

export async function loader({ request, params, context }: Route.LoaderArgs) {
  await requireAnonymous(request);
  throw await finishOAuthSignIn(request, params.provider, {
    ip: context.get(clientIpContext),
    userAgent: request.headers.get("user-agent") ?? undefined,
  });
}

// Only rendered for an unknown provider's 404, through the root error boundary.
export default function OAuthCallback() {
  return null;
}
