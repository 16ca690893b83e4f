import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Locator, type Page, test } from "@playwright/test";
import { VISION_MODEL } from "../fakes/ollama";
import { signUp, uniqueEmail } from "./support";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/images");
const SUNSET = path.join(FIXTURES, "sunset.png");
const LEAF = path.join(FIXTURES, "leaf.jpg");

const reply = (page: Page) => page.getByTestId("assistant-message").last();
const userMessage = (page: Page) => page.getByTestId("user-message").last();

/** True once the browser has decoded the picture (a broken image has no natural size). */
async function expectLoaded(image: Locator) {
  await expect(image).toBeVisible();
  await expect
    .poll(() => image.evaluate((element: HTMLImageElement) => element.naturalWidth))
    .toBeGreaterThan(0);
}

async function chooseVisionModel(page: Page) {
  await page.goto("/chat");
  await page.getByLabel("Model").selectOption(VISION_MODEL.name);
}

/**
 * Pastes or drops files onto the composer the way the browser delivers them: a real ClipboardEvent
 * or DragEvent whose DataTransfer holds File objects built from the fixture's bytes.
 */
async function deliverFiles(page: Page, how: "paste" | "drop", files: Array<{ name: string; path: string }>) {
  const payload = files.map((file) => ({
    name: file.name,
    type: file.name.endsWith(".png") ? "image/png" : "image/jpeg",
    base64: readFileSync(file.path).toString("base64"),
  }));
  await page.evaluate(
    ({ how, payload }) => {
      const transfer = new DataTransfer();
      for (const file of payload) {
        const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
      }
      const target = document.querySelector<HTMLTextAreaElement>('textarea[name="content"]')!;
      if (how === "paste") {
        target.dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
        );
      } else {
        for (const type of ["dragenter", "dragover", "drop"]) {
          target.dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
          );
        }
      }
    },
    { how, payload },
  );
}

test.describe("images with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail("images"));
  });

  test("attach with the file input: a thumbnail before sending, then in the message; the model got it", async ({
    page,
  }) => {
    await chooseVisionModel(page);
    await page.getByLabel("Message").fill("[[see]] what is this?");
    // Over MAX_FORM_BYTES (1 MB) on its own: the message routes' larger body limit must also cover
    // the ".data" URL React Router posts to with JavaScript. Bytes after a PNG's end are ignored.
    const large = Buffer.concat([readFileSync(SUNSET), Buffer.alloc(2 * 1024 * 1024)]);
    await page.getByLabel("Attach images").setInputFiles([
      { name: "sunset.png", mimeType: "image/png", buffer: readFileSync(SUNSET) },
      { name: "leaf.jpg", mimeType: "image/jpeg", buffer: readFileSync(LEAF) },
      { name: "large.png", mimeType: "image/png", buffer: large },
    ]);
    await expect(page.getByTestId("attachment")).toHaveCount(3);
    await expectLoaded(page.getByTestId("attachment").first().locator("img"));
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page).toHaveURL(/\/chat\/[a-z0-9]+(#m\d+)?$/);

    await expect(reply(page)).toContainText("I see 3 images.");
    await expect(userMessage(page).getByTestId("message-image")).toHaveCount(3);
    await expectLoaded(userMessage(page).getByTestId("message-image").first());
    await expectLoaded(userMessage(page).getByTestId("message-image").last());
    // The composer is empty again, thumbnails included.
    await expect(page.getByTestId("attachment")).toHaveCount(0);

    // Reopened later, the pictures are still there (served from the database).
    await page.reload();
    await expectLoaded(userMessage(page).getByTestId("message-image").first());
  });

  test("paste and drop add images; a thumbnail's remove button takes one out again", async ({ page }) => {
    await chooseVisionModel(page);
    await page.getByLabel("Message").fill("[[see]] pasted and dropped");
    await deliverFiles(page, "paste", [{ name: "sunset.png", path: SUNSET }]);
    await expect(page.getByTestId("attachment")).toHaveCount(1);
    await deliverFiles(page, "drop", [{ name: "leaf.jpg", path: LEAF }]);
    await expect(page.getByTestId("attachment")).toHaveCount(2);
    await page.getByRole("button", { name: "Remove sunset.png" }).click();
    await expect(page.getByTestId("attachment")).toHaveCount(1);
    await expect(page.getByTestId("attachment").locator("img")).toHaveAttribute("alt", "leaf.jpg");
    // What is sent is the file input's content, so the removed image must be gone from it too.
    expect(
      await page
        .getByLabel("Attach images")
        .evaluate((input: HTMLInputElement) => [...(input.files ?? [])].map((f) => f.name)),
    ).toEqual(["leaf.jpg"]);

    await page.getByRole("button", { name: "Send" }).click();
    await expect(reply(page)).toContainText("I see 1 image.");
    await expect(userMessage(page).getByTestId("message-image")).toHaveCount(1);
    await expectLoaded(userMessage(page).getByTestId("message-image"));

    // In an existing chat (/chat/<id>.data), a large image passes the body limit too.
    await page.getByLabel("Message").fill("[[see]] a big one now");
    await page.getByLabel("Attach images").setInputFiles({
      name: "large.png",
      mimeType: "image/png",
      buffer: Buffer.concat([readFileSync(SUNSET), Buffer.alloc(3 * 1024 * 1024)]),
    });
    await page.getByRole("button", { name: "Send" }).click();
    await expect(reply(page)).toContainText("I see 1 image.");
    await expect(page.getByTestId("message-image")).toHaveCount(2);
  });

  test("a model that cannot see is refused with a clear message", async ({ page }) => {
    await page.goto("/chat");
    await page.getByLabel("Model").selectOption("llama3.2:latest");
    await page.getByLabel("Message").fill("[[see]] can you?");
    await page.getByLabel("Attach images").setInputFiles(SUNSET);
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("composer-error")).toContainText(
      `llama3.2:latest cannot see images. Choose a vision model such as ${VISION_MODEL.name}`,
    );
    await expect(page).toHaveURL(/\/chat(\?index)?$/);
  });
});

test.describe("images without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the file input is a plain multipart form: the reply and the thumbnail come back", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("images-nojs"));
    await chooseVisionModel(page);
    await page.getByLabel("Message").fill("[[see]] no scripts here");
    await page.getByLabel("Attach images").setInputFiles(SUNSET);
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page).toHaveURL(/\/chat\/[a-z0-9]+(#m\d+)?$/);
    await expect(reply(page)).toContainText("I see 1 image.");
    await expectLoaded(userMessage(page).getByTestId("message-image"));

    // A follow-up in the same chat, still without JavaScript.
    await page.getByLabel("Message").fill("[[see]] and this one");
    await page.getByLabel("Attach images").setInputFiles(LEAF);
    await page.getByRole("button", { name: "Send" }).click();
    await expect(reply(page)).toContainText("I see 1 image.");
    await expect(page.getByTestId("message-image")).toHaveCount(2);
  });
});

test("looks right at 390 and 1280 px, light and dark, with attachments and thumbnails", async ({
  browser,
}, testInfo) => {
  testInfo.setTimeout(90_000);
  const setup = await browser.newContext();
  const first = await setup.newPage();
  await signUp(first, uniqueEmail("images-looks"));
  await chooseVisionModel(first);
  await first.getByLabel("Message").fill("[[see]] how does this look on a phone?");
  await first.getByLabel("Attach images").setInputFiles([SUNSET, LEAF]);
  await first.getByRole("button", { name: "Send" }).click();
  await expect(reply(first)).toContainText("I see 2 images.");
  const url = first.url().replace(/#.*$/, "");
  const state = await setup.storageState();
  await setup.close();

  for (const colorScheme of ["light", "dark"] as const) {
    for (const [width, height] of [
      [390, 844],
      [1280, 800],
    ]) {
      const context = await browser.newContext({
        colorScheme,
        viewport: { width, height },
        storageState: state,
      });
      const page = await context.newPage();
      await page.goto(url);
      await expectLoaded(userMessage(page).getByTestId("message-image").first());
      // Chosen but not sent yet: the composer's thumbnails too.
      await page.getByLabel("Attach images").setInputFiles([SUNSET, LEAF]);
      await expect(page.getByTestId("attachment")).toHaveCount(2);
      // Images and the composer's attachments must not push the page sideways on a phone.
      const overflowing = await page.evaluate(
        (limit) =>
          [...document.querySelectorAll('[data-testid="messages"] *, [data-testid="composer"] *')]
            .filter((element) => element.getBoundingClientRect().right > limit + 0.5)
            .map((element) => `${element.tagName}.${element.className}`),
        width,
      );
      expect(overflowing).toEqual([]);
      await page.screenshot({
        path: testInfo.outputPath(`chat-images-${width}-${colorScheme}.png`),
        fullPage: true,
      });
      await context.close();
    }
  }
});
