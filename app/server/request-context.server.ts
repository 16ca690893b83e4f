import { createContext } from "react-router";

/** The client's IP address, set by server.ts (honouring TRUST_PROXY); "unknown" in `react-router dev`. */
export const clientIpContext = createContext<string>("unknown");
