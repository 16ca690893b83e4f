/**
 * "Continue with …" buttons, one per configured provider. Plain <form>s, not React Router's <Form>:
 * the flow leaves the site, so a full-page POST is what we want, with or without JavaScript.
 */
export function OAuthButtons({
  providers,
  redirectTo,
}: {
  providers: { id: string; label: string }[];
  redirectTo: string;
}) {
  if (providers.length === 0) return null;
  return (
    <div className="mt-6 flex flex-col gap-2">
      <p className="flex items-center gap-3 text-sm text-zinc-500 dark:text-zinc-400 before:h-px before:flex-1 before:bg-zinc-300 after:h-px after:flex-1 after:bg-zinc-300 dark:before:bg-zinc-700 dark:after:bg-zinc-700">
        or
      </p>
      {providers.map((provider) => (
        <form key={provider.id} method="post" action={`/auth/${provider.id}`}>
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <button
            type="submit"
            className="w-full rounded border border-zinc-300 px-4 py-2 font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            {`Continue with ${provider.label}`}
          </button>
        </form>
      ))}
    </div>
  );
}
