import { createElement, useEffect, useState } from "react";

/** False during the server render and the first client render, true once JavaScript runs. */
export function useHydrated() {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

/**
 * Tells an action whether to wait for the whole reply (no JavaScript: the response must show it)
 * or answer at once (JavaScript follows the reply as it streams).
 */
export function WaitForReplyInput() {
  const hydrated = useHydrated();
  return createElement("input", { type: "hidden", name: "wait", value: hydrated ? "0" : "1" });
}
