import { randomBytes } from "node:crypto";
import type { Page } from "@playwright/test";

export function uniqueEmail(label: string) {
  return `${label}-${randomBytes(4).toString("hex")}@example.com`;
}

export async function signUp(page: Page, email: string, password = "correct horse battery") {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByTestId("welcome").waitFor();
}

/** Who the fake OAuth provider signs everyone in as during the browser tests. */
export const e2eGitHubUser = {
  id: 424_242,
  login: "e2e-octocat",
  name: "E2E Octocat",
  email: "e2e-octocat@example.com",
};

/** Opens the chat's "…" menu (rename, pin, settings, export, delete) unless it is open already. */
export async function openChatMenu(page: Page) {
  const menu = page.getByTestId("chat-menu");
  if ((await menu.getAttribute("open")) === null) await menu.getByLabel("Chat actions").click();
}

/** Opens the chat's system prompt and parameters panel through its menu. */
export async function openChatSettings(page: Page) {
  await openChatMenu(page);
  await page.getByRole("link", { name: "System prompt and parameters" }).click();
  await page.getByTestId("chat-settings").waitFor();
}
