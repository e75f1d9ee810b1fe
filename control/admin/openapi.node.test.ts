/** The admin API's OpenAPI document against the OpenAPI 3.1 schema (Node only: the validator is a Node package). */
import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "./openapi.ts";

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(structuredClone(openApiDocument) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(result.specification).toBe("OpenAPI");
  });

  it("would be caught if broken (the validator is not a no-op)", async () => {
    const broken = structuredClone(openApiDocument) as unknown as { paths: Record<string, { get?: { responses: unknown } }> };
    broken.paths["/healthz"]!.get!.responses = { "200": { content: {} } };
    expect((await validate(broken as never)).valid).toBe(false);
  });
});
