import { describe, expect, it } from "vitest";
import { errorCode, errorDetail } from "../src/api/errors";

describe("an error body's detail", () => {
  it("is the server's text as it is", () => {
    expect(errorDetail({ detail: "target 2 (webhook): url 'ftp://x' is not an http:// or https:// URL", code: "invalid_request" })).toBe(
      "target 2 (webhook): url 'ftp://x' is not an http:// or https:// URL",
    );
  });

  it("lists a 422's problems by field, without where the request carried them", () => {
    const body = {
      code: "validation_failed",
      detail: [
        { type: "float_parsing", loc: ["value"], msg: "Input should be a valid number, unable to parse string as a number" },
        { type: "literal_error", loc: ["body", "targets", 0, "format"], msg: "Input should be 'json' or 'slack'" },
        { type: "missing", loc: [], msg: "Field required" },
      ],
    };
    expect(errorDetail(body)).toBe(
      "value: Input should be a valid number, unable to parse string as a number; targets.0.format: Input should be 'json' or 'slack'; Field required",
    );
    expect(errorCode(body)).toBe("validation_failed");
  });

  it("falls back to JSON for any other shape, and to null without one", () => {
    expect(errorDetail({ detail: { why: 1 } })).toBe('{"why":1}');
    expect(errorDetail({ detail: [] })).toBe("[]");
    expect(errorDetail("oops")).toBeNull();
  });
});
