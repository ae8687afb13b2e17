import { describe, expect, it } from "vitest";
import { shownSummary, summaryFields, summaryLabel, summaryValue } from "../src/lib/runs";

// define_metric("eval/acc", summary="max") keeps {"eval/acc": {"max": …}} in the run's summary.
const defined = { summary: { "eval/acc": { max: 0.9 }, loss: 0.2, "eval/f1": { min: 0.1, max: 0.8 } } };
const plain = { summary: { "eval/acc": 0.5, loss: 0.3 } };

describe("define_metric summaries", () => {
  it("name each kept view as wandb does, labelled for people", () => {
    expect(summaryFields(["eval/acc", "eval/f1", "loss"], [defined])).toEqual(["eval/acc.max", "eval/f1.min", "eval/f1.max", "loss"]);
    expect(summaryLabel("eval/acc.max")).toBe("eval/acc (max)");
    expect(summaryLabel("loss")).toBe("loss");
  });

  it("keep the plain key beside the views where some run holds a plain value", () => {
    expect(summaryFields(["eval/acc"], [defined, plain])).toEqual(["eval/acc", "eval/acc.max"]);
    expect(summaryFields(["unseen"], [defined])).toEqual(["unseen"]);
  });

  it("read the kept value, never the whole entry", () => {
    expect(summaryValue(defined.summary, "eval/acc.max")).toBe(0.9);
    expect(summaryValue(defined.summary, "eval/f1.min")).toBe(0.1);
    expect(summaryValue(defined.summary, "eval/acc")).toBeUndefined();
    expect(summaryValue(defined.summary, "eval/acc.min")).toBeUndefined();
    expect(summaryValue(plain.summary, "eval/acc.max")).toBeUndefined();
    expect(summaryValue({ x: { last: 3, min: 1 } }, "x")).toBe(3);
    expect(summaryValue({ "odd.max": 4 }, "odd.max")).toBe(4);
  });

  it("spread into labelled values wherever a summary is listed", () => {
    expect(shownSummary(defined.summary)).toEqual({ "eval/acc (max)": 0.9, loss: 0.2, "eval/f1 (min)": 0.1, "eval/f1 (max)": 0.8 });
    const media = { _type: "image-file", path: "a.png" };
    expect(shownSummary({ img: media })).toEqual({ img: media });
  });
});
