import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { sniffImage } from "./images.server";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../tests/fixtures/images/${name}`, import.meta.url)));

describe("sniffImage", () => {
  test.each([
    ["sunset.png", { mime: "image/png", width: 96, height: 64 }],
    ["leaf.jpg", { mime: "image/jpeg", width: 80, height: 60 }],
    ["square.webp", { mime: "image/webp", width: 48, height: 48 }],
  ])("%s: type from the magic bytes, size from the header", (name, expected) => {
    expect(sniffImage(fixture(name))).toEqual(expected);
  });

  test("the size is read from a view into a larger buffer (multipart parts are slices)", () => {
    const png = fixture("sunset.png");
    const padded = new Uint8Array(png.length + 7);
    padded.set(png, 7);
    expect(sniffImage(padded.subarray(7))).toEqual({ mime: "image/png", width: 96, height: 64 });
  });

  test.each([
    ["GIF", Buffer.from("GIF89a\x01\x00\x01\x00", "latin1")],
    ["SVG", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ["text", Buffer.from("hello, not an image")],
    ["RIFF that is not WebP (WAVE)", Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt ", "latin1")],
    ["empty", Buffer.alloc(0)],
  ])("%s is not an accepted image", (_, bytes) => {
    expect(sniffImage(new Uint8Array(bytes))).toBeNull();
  });

  test("a truncated header still gives the type, without a size", () => {
    expect(sniffImage(fixture("sunset.png").subarray(0, 12))).toEqual({
      mime: "image/png",
      width: null,
      height: null,
    });
    expect(sniffImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toEqual({
      mime: "image/jpeg",
      width: null,
      height: null,
    });
  });
});
