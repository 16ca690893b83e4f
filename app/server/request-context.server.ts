import { AsyncLocalStorage } from "node:async_hooks";
import { createContext } from "react-router";

/** The client's IP address, set by server.ts (honouring TRUST_PROXY); "unknown" in `react-router dev`. */
export const clientIpContext = createContext<string>("unknown");

interface RequestScope {
  ip: string;
  /** Set once a refused admin-guard hit of this request is in the audit log (layout and page both check). */
  adminDenialRecorded: boolean;
}

const scope = new AsyncLocalStorage<RequestScope>();

/**
 * Runs the rest of a page request (loaders and actions) with its client IP in reach of code that is
 * not handed the router context, such as the admin guards, whose `requireAdminPage(request)` call
 * shape every admin route shares. Called by the root middleware.
 */
export function runInRequestScope<T>(ip: string, next: () => T): T {
  return scope.run({ ip, adminDenialRecorded: false }, next);
}

/** The current page request's scope, or undefined outside one (the API, background work). */
export function requestScope(): RequestScope | undefined {
  return scope.getStore();
}
