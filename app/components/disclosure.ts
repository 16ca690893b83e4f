import { useEffect, useRef } from "react";
import { useLocation } from "react-router";

/**
 * For a <details> used as a menu or drawer. Without JavaScript it opens and closes by its summary, and
 * following a link loads a page where it is closed. With JavaScript the page does not reload, so this
 * closes it after a navigation, on Escape (focus back on the summary) and on a click outside it.
 */
export function useCloseOnNavigation<T extends HTMLDetailsElement>() {
  const ref = useRef<T>(null);
  const location = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: closing is the point of a new location
  useEffect(() => {
    if (ref.current) ref.current.open = false;
  }, [location.key]);
  useEffect(() => {
    const close = (event: Event) => {
      const details = ref.current;
      if (!details?.open) return;
      if (event instanceof KeyboardEvent) {
        if (event.key !== "Escape") return;
        details.open = false;
        details.querySelector("summary")?.focus();
        event.stopPropagation();
        return;
      }
      const target = event.target as Node;
      if (details.contains(target)) return;
      details.open = false;
    };
    document.addEventListener("keydown", close, true);
    document.addEventListener("click", close);
    return () => {
      document.removeEventListener("keydown", close, true);
      document.removeEventListener("click", close);
    };
  }, []);
  return ref;
}
