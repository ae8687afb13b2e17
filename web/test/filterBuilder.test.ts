import { describe, expect, it } from "vitest";
import { formatClause, formatField, formatFilter, formatLiteral, parseFieldPath, parseFilter, type Clause } from "../src/lib/filterBuilder";

describe("formatting clauses", () => {
  it("writes numbers bare and strings quoted", () => {
    expect(formatLiteral("0.01")).toBe("0.01");
    expect(formatLiteral("1e-3")).toBe("1e-3");
    expect(formatLiteral("finished")).toBe('"finished"');
    expect(formatLiteral('say "hi"')).toBe('"say \\"hi\\""');
    expect(formatLiteral("TRUE")).toBe("true");
  });

  it("quotes path segments that are not plain names", () => {
    expect(formatField(["config", "optimizer", "lr"])).toBe("config.optimizer.lr");
    expect(formatField(["summary", "eval/acc"])).toBe("summary.eval/acc");
    expect(formatField(["config", "a.b"])).toBe("config.`a.b`");
    expect(formatField(["config", "x`y z"])).toBe("config.`x``y z`");
    expect(formatField(["and"])).toBe("`and`");
  });

  it("and-s complete clauses and drops empty ones", () => {
    const clauses: Clause[] = [
      { field: ["config", "lr"], op: "<", value: "0.01" },
      { field: ["state"], op: "in", value: "finished, crashed" },
      { field: ["tags"], op: "contains", value: "" },
      { field: ["name"], op: "not contains", value: "baseline" },
    ];
    expect(formatFilter(clauses)).toBe(
      'config.lr < 0.01 and state in ("finished", "crashed") and name not contains "baseline"',
    );
  });

  it("writes a list with quoted commas", () => {
    expect(formatClause({ field: ["name"], op: "not in", value: '"a,b", c' })).toBe('name not in ("a,b", "c")');
  });
});

describe("parsing a filter back into clauses", () => {
  it("round-trips what the builder writes", () => {
    const clauses: Clause[] = [
      { field: ["config", "lr"], op: "<", value: "0.01" },
      { field: ["summary", "eval/acc", "max"], op: ">=", value: "0.9" },
      { field: ["state"], op: "in", value: "finished, running" },
      { field: ["config", "a.b"], op: "=", value: "x y" },
      { field: ["tags"], op: "not contains", value: "bad" },
    ];
    expect(parseFilter(formatFilter(clauses))).toEqual(clauses);
  });

  it("reads operators the server also accepts", () => {
    expect(parseFilter("name == 'abc' AND runtime <> 5")).toEqual([
      { field: ["name"], op: "=", value: "abc" },
      { field: ["runtime"], op: "!=", value: "5" },
    ]);
  });

  it("keeps a string that looks like a number quoted", () => {
    expect(parseFilter('name = "123"')).toEqual([{ field: ["name"], op: "=", value: '"123"' }]);
    expect(formatFilter(parseFilter('name = "123"') as Clause[])).toBe('name = "123"');
  });

  it("gives up on what only the text box can edit", () => {
    expect(parseFilter("a = 1 or b = 2")).toBeNull();
    expect(parseFilter("(a = 1)")).toBeNull();
    expect(parseFilter("not a = 1")).toBeNull();
    expect(parseFilter("a = ")).toBeNull();
    expect(parseFilter("a = 1 and")).toBeNull();
    expect(parseFilter("a = 'open")).toBeNull();
  });

  it("reads an empty filter as no clauses", () => expect(parseFilter("  ")).toEqual([]));

  it("reads a typed field path", () => {
    expect(parseFieldPath("summary.`a.b`.min")).toEqual(["summary", "a.b", "min"]);
    expect(parseFieldPath("a = 1")).toBeNull();
  });
});
