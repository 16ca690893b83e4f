import { createContext, use } from "react";

/**
 * The Content-Security-Policy nonce of the document being rendered on the server. Browsers hide
 * nonce attributes from scripts, so on the client it is undefined and only the server's matters.
 */
export const NonceContext = createContext<string | undefined>(undefined);

export function useNonce() {
  return use(NonceContext);
}
