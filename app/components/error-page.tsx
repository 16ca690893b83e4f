import { isRouteErrorResponse } from "react-router";

/** What went wrong, in words; the page keeps the header, so the way on is where it always is. */
export function ErrorPage({ error }: { error: unknown }) {
  let title = "Something went wrong";
  let detail = "An unexpected error occurred. Try again in a moment.";
  if (isRouteErrorResponse(error)) {
    title =
      error.status === 404
        ? "Page not found"
        : error.status === 403
          ? "Not allowed"
          : `Error ${error.status}`;
    detail = typeof error.data === "string" && error.data ? error.data : error.statusText || detail;
    if (error.status === 404 && detail === "Not Found") detail = "There is nothing at this address.";
  }
  return (
    <section className="mx-auto max-w-xl px-4 py-16" data-testid="error-page">
      <h1 className="mb-4 text-2xl font-semibold">{title}</h1>
      <p className="text-zinc-600 dark:text-zinc-400">{detail}</p>
      <a href="/" className="mt-6 inline-block text-indigo-700 underline dark:text-indigo-300">
        Back to the start page
      </a>
    </section>
  );
}
