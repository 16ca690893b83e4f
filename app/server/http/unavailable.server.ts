import { data } from "react-router";

/** Seconds a client (or a person) should wait before retrying while a shared store is away. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * A 503 for pages, thrown from loaders and actions: the root error boundary shows the message, and
 * Retry-After tells proxies and scripts when to try again. Used while Redis (sessions, sign-in
 * limits) cannot be reached.
 */
export function serviceUnavailable(message: string) {
  return data(message, {
    status: 503,
    headers: { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
  });
}

export const signInUnavailable = () =>
  serviceUnavailable(
    "Signing in is unavailable for a moment because the session store cannot be reached. Try again in a few seconds.",
  );
