import { describe, expect, it } from "vitest";
import { systemSections } from "../src/lib/systemPanels";

describe("systemSections", () => {
  it("puts GPUs first, most telling metric first, GPUs side by side", () => {
    const keys = [
      "_timestamp",
      "_runtime",
      "system/disk_read_mb",
      "system/network_sent_mb",
      "system/disk/root/usage_percent",
      "system/proc_rss_mb",
      "system/cpu_percent",
      "system/gpu/1/temperature_c",
      "system/gpu/0/temperature_c",
      "system/gpu/10/utilization_percent",
      "system/gpu/1/utilization_percent",
      "system/gpu/0/utilization_percent",
      "system/gpu/0/process_memory_mb",
      "system/gpu/0/some_new_reading",
      "system/something_else",
    ];
    expect(systemSections(keys)).toEqual([
      [
        "system.gpu",
        [
          "system/gpu/0/utilization_percent",
          "system/gpu/1/utilization_percent",
          "system/gpu/10/utilization_percent",
          "system/gpu/0/process_memory_mb",
          "system/gpu/0/temperature_c",
          "system/gpu/1/temperature_c",
          "system/gpu/0/some_new_reading",
        ],
      ],
      ["system.host", ["system/cpu_percent", "system/proc_rss_mb"]],
      ["system.io", ["system/disk/root/usage_percent", "system/disk_read_mb", "system/network_sent_mb"]],
      ["system.other", ["system/something_else"]],
    ]);
  });

  it("leaves out empty groups", () => {
    expect(systemSections(["system/cpu_percent", "_runtime"])).toEqual([["system.host", ["system/cpu_percent"]]]);
    expect(systemSections([])).toEqual([]);
  });
});
