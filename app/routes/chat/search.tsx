import { data, Form, Link } from "react-router";
import { Highlighted } from "~/components/highlighted";
import { fieldErrorsOf } from "~/lib/account-schemas";
import { SEARCH_MAX_QUERY_LENGTH, searchParamsSchema } from "~/lib/search";
import { requireUser } from "~/server/auth.server";
import { type SearchHit, searchChats } from "~/server/chat/search.server";
import type { Route } from "./+types/search";

export const meta: Route.MetaFunction = ({ data }) => [
  { title: data?.q ? `${data.q} · Search · CustomChatAI` : "Search · CustomChatAI" },
];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const params = new URL(request.url).searchParams;
  const raw = { q: params.get("q") ?? undefined, page: params.get("page") || undefined };
  const parsed = searchParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const errors = fieldErrorsOf(parsed.error);
    return data({ q: raw.q ?? "", page: 1, hits: [], hasMore: false, errors }, { status: 400 });
  }
  const { q, page } = parsed.data;
  const result = q ? await searchChats(user.id, q, page) : { hits: [], hasMore: false };
  return { q, page, ...result, errors: null };
}

export default function Search({ loaderData }: Route.ComponentProps) {
  const { q, page, hits, hasMore, errors } = loaderData;
  const error = errors ? Object.values(errors).flat().join(" ") : null;
  return (
    <section className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">Search</h1>
      {/* A plain GET form: it works, and its URL can be shared, with or without JavaScript. */}
      <Form method="get" action="/search" role="search" className="flex gap-2">
        <input
          key={q}
          type="search"
          name="q"
          defaultValue={q}
          maxLength={SEARCH_MAX_QUERY_LENGTH}
          aria-label="Search your chats"
          aria-invalid={error ? true : undefined}
          placeholder="Search titles and messages"
          className="flex-1 rounded border border-zinc-300 bg-white px-3 py-2 text-zinc-900 outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
        />
        <button
          type="submit"
          className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500"
        >
          Search
        </button>
      </Form>
      {error ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400" data-testid="search-error">
          {error}
        </p>
      ) : !q ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="search-empty">
          Search the titles and messages of your chats. The last word also finds longer words (“strea” finds
          “streaming”); use "quotes" for a phrase, <code>or</code> for either word and <code>-word</code> to
          leave a word out.
        </p>
      ) : hits.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="search-none">
          {page > 1 ? "No more results." : "Nothing in your chats matches that."}
        </p>
      ) : (
        <ol className="flex flex-col gap-4" data-testid="search-results">
          {hits.map((hit) => (
            <SearchResult key={`${hit.chatId}:${hit.messageId ?? ""}`} hit={hit} />
          ))}
        </ol>
      )}
      {hasMore ? (
        <Link
          to={`/search?${new URLSearchParams({ q, page: String(page + 1) })}`}
          className="self-start text-indigo-600 underline dark:text-indigo-400"
        >
          More results
        </Link>
      ) : null}
    </section>
  );
}

function SearchResult({ hit }: { hit: SearchHit }) {
  const chat = `/chat/${encodeURIComponent(hit.chatId)}`;
  return (
    <li className="rounded border border-zinc-200 p-3 dark:border-zinc-800" data-testid="search-hit">
      <Link to={hit.messageId ? `${chat}#m${hit.messageId}` : chat} className="font-medium hover:underline">
        <Highlighted segments={hit.title} />
      </Link>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        {hit.role ? `${hit.role[0].toUpperCase()}${hit.role.slice(1)} message` : "Chat title"} ·{" "}
        {/* UTC, so the server's and the browser's rendering agree. */}
        <time dateTime={hit.at}>{`${hit.at.slice(0, 16).replace("T", " ")} UTC`}</time>
      </p>
      {hit.snippet ? (
        <p
          className="mt-1 text-sm whitespace-pre-line text-zinc-700 dark:text-zinc-300"
          data-testid="search-snippet"
        >
          <Highlighted segments={hit.snippet} />
        </p>
      ) : null}
    </li>
  );
}
