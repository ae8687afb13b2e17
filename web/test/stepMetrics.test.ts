import { describe, expect, it } from "vitest";
import { stepMetricOf } from "../src/lib/stepMetrics";

describe("a metric's default x axis", () => {
  const declared = { "eval/*": "epoch", "eval/loss": "eval/step", "*": "global_step", "train/*": "batch" };

  it("is the step_metric define_metric declared: an exact name first, else the longest glob", () => {
    expect(stepMetricOf(declared, "eval/loss")).toBe("eval/step");
    expect(stepMetricOf(declared, "eval/acc")).toBe("epoch");
    expect(stepMetricOf(declared, "train/loss")).toBe("batch");
    expect(stepMetricOf(declared, "lr")).toBe("global_step");
  });

  it("is none for wandb's own keys, undeclared metrics, or the step metric itself", () => {
    expect(stepMetricOf(declared, "_runtime")).toBeNull();
    expect(stepMetricOf({ "eval/*": "epoch" }, "loss")).toBeNull();
    expect(stepMetricOf({ "*": "epoch" }, "epoch")).toBeNull();
  });
});
