import { useFetcher } from "react-router";
import { isTheme, type Theme, themes } from "~/lib/theme";

const labels: Record<Theme, string> = { light: "Light", dark: "Dark", system: "System" };

/** A plain form (works without JavaScript); with JavaScript it submits in place and applies at once. */
export function ThemeSwitch({ current, redirectTo }: { current: Theme; redirectTo: string }) {
  const fetcher = useFetcher({ key: "theme" });
  const pending = fetcher.formData?.get("theme");
  const selected = isTheme(pending) ? pending : current;
  return (
    <fetcher.Form method="post" action="/theme" className="flex gap-1" aria-label="Theme">
      <input type="hidden" name="redirectTo" value={redirectTo} />
      {themes.map((theme) => (
        <button
          key={theme}
          type="submit"
          name="theme"
          value={theme}
          aria-pressed={selected === theme}
          className="rounded px-2 py-1 text-xs aria-pressed:bg-zinc-200 dark:aria-pressed:bg-zinc-800"
        >
          {labels[theme]}
        </button>
      ))}
    </fetcher.Form>
  );
}
