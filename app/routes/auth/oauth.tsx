import { requireAnonymous } from "~/server/auth.server";
import { startOAuthSignIn } from "~/server/oauth.server";
import type { Route } from "./+types/oauth";

// POST from the "Continue with …" buttons (a plain form, so it works without JavaScript); GET too,
// so a link can start the flow. A forged start is harmless: the state cookie stops a forged finish.
export async function action({ request, params }: Route.ActionArgs) {
  await requireAnonymous(request);
  const form = await request.formData();
  throw await startOAuthSignIn(request, params.provider, form.get("redirectTo"));
}

export async function loader({ request, params }: Route.LoaderArgs) {
  await requireAnonymous(request);
  const redirectTo = new URL(request.url).searchParams.get("redirectTo");
  throw await startOAuthSignIn(request, params.provider, redirectTo);
}

// Only rendered for an unknown provider's 404, through the root error boundary.
export default function OAuthStart() {
  return null;
}
