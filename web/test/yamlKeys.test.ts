import { describe, expect, it } from "vitest";
import { keyLines, lineOfKey } from "../src/lib/yamlKeys";

const YAML = `# a sweep
program: train.py
method: bayes
metric:
  name: val_loss
  goal: minimize
parameters:
  lr:
    distribution: log_uniformm   # typo
    min: 0.0001
  "batch size":
    values: [16, 32]
  optimizer:
    parameters:
      name:
        values: ["adam", "sgd"]
`;

describe("keyLines", () => {
  const lines = keyLines(YAML);
  it("places top-level and nested keys", () => {
    expect(lines.get("program")).toBe(2);
    expect(lines.get("metric.goal")).toBe(6);
    expect(lines.get("parameters.lr.distribution")).toBe(9);
    expect(lines.get("parameters.optimizer.parameters.name.values")).toBe(16);
  });
  it("reads quoted keys", () => expect(lines.get("parameters.batch size.values")).toBe(12));
  it("leaves out comments and blank lines", () => expect([...lines.values()]).not.toContain(1));
});

describe("lineOfKey", () => {
  const lines = keyLines(YAML);
  it("finds the key itself", () => expect(lineOfKey(lines, "parameters.lr.distribution")).toBe(9));
  it("falls back to the nearest parent", () => expect(lineOfKey(lines, "parameters.lr.max")).toBe(8));
  it("drops list indices", () => expect(lineOfKey(lines, "parameters.batch size.values[1]")).toBe(12));
  it("takes a line the message names", () => expect(lineOfKey(lines, "", "mapping values are not allowed, line 3")).toBe(3));
  it("says when it cannot place a key", () => expect(lineOfKey(keyLines('{"method": "grid"}'), "method")).toBeNull());
});
