import { Suspense } from "react";
import { Await, Link } from "react-router";
import { getUser } from "~/server/auth.server";
import { withoutHidden } from "~/server/models/settings.server";
import { listModels, type OllamaModel } from "~/server/ollama/client.server";
import type { Route } from "./+types/home";

export async function loader({ request }: Route.LoaderArgs) {
  const user = await getUser(request);
  if (!user) return { user: null, models: null };
  // Not awaited: the page renders at once and the model list streams in when Ollama answers.
  const models: Promise<{ models: OllamaModel[] } | { error: string }> = listModels()
    .then(withoutHidden)
    .then(
      (list) => ({ models: list }),
      (error: Error) => ({ error: error.message }),
    );
  return { user, models };
}

export default function Home({ loaderData }: Route.ComponentProps) {
  const { user, models } = loaderData;
  if (!user) {
    return (
      <section className="mx-auto max-w-2xl py-12 text-center">
        <h1 className="mb-4 text-4xl font-bold tracking-tight">Your own ChatGPT, on your own servers.</h1>
        <p className="mb-8 text-lg text-zinc-600 dark:text-zinc-400">
          Chat with local models through Ollama, keep your history private, and call the same models from any
          OpenAI client with your own API keys.
        </p>
        <div className="flex justify-center gap-4">
          <Link
            to="/signup"
            className="rounded bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500"
          >
            Create an account
          </Link>
          <Link
            to="/login"
            className="rounded border border-zinc-300 px-5 py-2.5 font-medium dark:border-zinc-700"
          >
            Log in
          </Link>
        </div>
      </section>
    );
  }
  return (
    <section className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold" data-testid="welcome">
        Welcome, {user.name || user.email}
      </h1>
      <div>
        <h2 className="mb-2 text-lg font-semibold">Models</h2>
        <Suspense fallback={<p className="text-sm text-zinc-500">Asking Ollama for its models…</p>}>
          <Await resolve={models}>
            {(result) => <ModelSummary result={result} isAdmin={user.role === "ADMIN"} />}
          </Await>
        </Suspense>
      </div>
    </section>
  );
}

function ModelSummary({
  result,
  isAdmin,
}: {
  result: { models: OllamaModel[] } | { error: string } | null;
  isAdmin: boolean;
}) {
  if (!result) return null;
  if ("error" in result) {
    return (
      <p className="text-sm text-amber-700 dark:text-amber-400" data-testid="ollama-status">
        Ollama is not reachable right now.{" "}
        {isAdmin ? "Check OLLAMA_URL and that Ollama is running." : "Ask an administrator."}
      </p>
    );
  }
  if (result.models.length === 0) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="ollama-status">
        No models are installed yet.
        {isAdmin ? " Pull one with `ollama pull llama3.2`." : " Ask an administrator to add one."}
      </p>
    );
  }
  return (
    <ul className="text-sm" data-testid="ollama-status">
      {result.models.map((model) => (
        <li key={model.name}>
          <span className="font-mono">{model.name}</span>
          {model.parameterSize ? <span className="text-zinc-500"> · {model.parameterSize}</span> : null}
          {model.quantization ? <span className="text-zinc-500"> · {model.quantization}</span> : null}
        </li>
      ))}
    </ul>
  );
}
