import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The README is the front door (at most 10 KB); the details live in docs/. Every relative link in
 * them must lead somewhere: to a file that exists and, with a #fragment, to a heading in it.
 * (The configuration and error tables are checked against the code in config.test.ts and errors.test.ts.)
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let inCode = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inCode = !inCode;
    const m = !inCode && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  }
  return out;
}

describe("README and docs/", () => {
  it("keep the README a front door of at most 10 KB", () => {
    expect(statSync(join(root, "README.md")).size).toBeLessThanOrEqual(10 * 1024);
  });

  it.each(pages)("%s links only to files and headings that exist", (page) => {
    const text = readFileSync(join(root, page), "utf8");
    // Markdown links and images, and HTML src attributes (images laid out side by side).
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/\ssrc="([^"]+)"/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
    if (page === "README.md") expect(links.length).toBeGreaterThanOrEqual(6); // the docs/ links at least
    const broken: string[] = [];
    for (const link of links) {
      const [path, fragment] = link.split("#") as [string, string | undefined];
      const target = path ? join(root, dirname(page), path) : join(root, page);
      if (!existsSync(target)) broken.push(link);
      else if (fragment && target.endsWith(".md") && !anchors(readFileSync(target, "utf8")).has(fragment)) broken.push(link);
    }
    expect(broken).toEqual([]);
  });
});
