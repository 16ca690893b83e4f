import { data } from "react-router";
import { isApiPath } from "../openai/router.server";
import { isSameOriginRequest } from "./origin.server";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const FORM_TYPES = /^(?:application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * Checks every page and resource-route request before any loader or action sees it, as root
 * middleware (Web Request only, so it holds on every adapter):
 * - a state-changing request from another site's page is refused (403), resource routes such as
 *   /logout and /theme included, which React Router's own origin check does not cover;
 * - a body that is not a form (JSON, say), a form that cannot be parsed, and a NUL character in
 *   the address or in any field are answered 400 with a plain explanation, not passed on to fail
 *   as a 500 deep inside (PostgreSQL refuses NUL in text).
 * /api/v1 has its own rules (bearer keys, CORS, the OpenAI error envelope) and is left alone.
 */
export async function guardRequest(request: Request) {
  const url = new URL(request.url);
  if (isApiPath(url.pathname)) return;
  if (/%00/.test(url.pathname + url.search)) {
    throw data("The address contains a NUL character, which is not allowed.", { status: 400 });
  }
  if (SAFE_METHODS.has(request.method)) return;
  if (!isSameOriginRequest(request)) {
    throw data("This form was sent from another site, so it was not accepted.", { status: 403 });
  }
  const contentType = request.headers.get("content-type");
  if (!contentType) {
    if (request.body === null || (await request.clone().arrayBuffer()).byteLength === 0) return;
    throw data("Send the form as a web form (application/x-www-form-urlencoded or multipart/form-data).", {
      status: 400,
    });
  }
  if (!FORM_TYPES.test(contentType)) {
    throw data("Send the form as a web form (application/x-www-form-urlencoded or multipart/form-data).", {
      status: 400,
    });
  }
  let form: FormData;
  try {
    form = await request.clone().formData();
  } catch {
    throw data("The form could not be read: its body is malformed.", { status: 400 });
  }
  for (const [name, value] of form) {
    if (name.includes("\0") || (typeof value === "string" && value.includes("\0"))) {
      throw data("The form contains a NUL character, which is not allowed. Remove it and try again.", {
        status: 400,
      });
    }
  }
}
