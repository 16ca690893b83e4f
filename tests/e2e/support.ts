import { randomBytes } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import pg from "pg";

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

/** Makes a signed-up user an administrator, straight in the browser tests' database. */
export async function promoteToAdmin(email: string) {
  const client = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`UPDATE users SET role = 'ADMIN' WHERE email = $1`, [email]);
  } finally {
    await client.end();
  }
}

/** Starts a chat from the new-chat page with this message (a no-script send lands on its reply). */
export async function startChat(page: Page, message: string) {
  await page.goto("/chat");
  await page.getByLabel("Message").fill(message);
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(/\/chat\/[a-z0-9]+(#m\d+)?$/);
}
