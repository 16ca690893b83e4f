import { Link, redirect } from "react-router";
import { getUser } from "~/server/auth.server";
import type { Route } from "./+types/home";

/** Signed in, the start page is a new chat (as in ChatGPT); signed out, it says what this is. */
export async function loader({ request }: Route.LoaderArgs) {
  if (await getUser(request)) throw redirect("/chat");
  return null;
}

export default function Home() {
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
