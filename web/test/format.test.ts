import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatNumber, formatTime, formatValue, formatWallTicks, toNumber } from "../src/lib/format";

describe("formatNumber", () => {
  it("keeps integers whole", () => expect(formatNumber(12345678)).toBe("12345678"));
  it("rounds to 5 significant digits", () => expect(formatNumber(0.123456789)).toBe("0.12346"));
  it("uses exponents for tiny and huge values", () => {
    expect(formatNumber(0.0000123)).toBe("1.23e-5");
    expect(formatNumber(1.5e20)).toBe("1.5e+20");
  });
  it("names non-finite values", () => {
    expect(formatNumber(NaN)).toBe("NaN");
    expect(formatNumber(-Infinity)).toBe("-∞");
  });
});

describe("formatValue", () => {
  it("shows missing values as a dash", () => expect(formatValue(undefined)).toBe("–"));
  it("writes objects as JSON", () => expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}'));
  it("writes booleans", () => expect(formatValue(false)).toBe("false"));
  it("names a media stub by its kind", () => expect(formatValue({ _type: "image-file", path: "media/images/a.png" })).toBe("‹image-file›"));
  it("names a list of media by kind and count, not as JSON", () => {
    const image = { _type: "image-file", path: "media/images/a.png" };
    expect(formatValue([image, image, image])).toBe("‹image-file ×3›");
    expect(formatValue([image, { _type: "audio-file", path: "a.wav" }])).toBe("‹image-file, audio-file ×2›");
  });
  it("keeps plain lists as JSON", () => {
    expect(formatValue([1, 2])).toBe("[1,2]");
    expect(formatValue([])).toBe("[]");
    expect(formatValue([{ _type: "image-file" }, 1])).toBe('[{"_type":"image-file"},1]');
  });
});

describe("toNumber", () => {
  it("reads the API's non-finite strings", () => {
    expect(toNumber("Infinity")).toBe(Infinity);
    expect(Number.isNaN(toNumber("NaN"))).toBe(true);
    expect(toNumber("x")).toBeNull();
  });
});

describe("formatDuration", () => {
  it("writes seconds, minutes, hours and days", () => {
    expect(formatDuration(3.21)).toBe("3.2s");
    expect(formatDuration(185)).toBe("3m 05s");
    expect(formatDuration(3720)).toBe("1h 02m");
    expect(formatDuration(90000)).toBe("1d 01h");
    expect(formatDuration(null)).toBe("–");
  });
});

describe("formatTime and formatBytes", () => {
  it("writes a local timestamp in the UI language", () => {
    expect(formatTime(0, "en")).toMatch(/^(Jan 1, 1970|Dec 31, 1969), \d\d:\d\d:\d\d$/);
    expect(formatTime(0, "zh")).toMatch(/^(1970年1月1日|1969年12月31日) \d\d:\d\d:\d\d$/);
  });
  it("writes sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1_250_000)).toBe("1.3 MB");
  });
});

describe("media stubs", () => {
  it("are shown by their type, not as JSON", () => expect(formatValue({ _type: "histogram", values: [1, 2] })).toBe("‹histogram›"));
});

describe("wall-clock axis ticks", () => {
  const noon = Date.UTC(2026, 11, 4, 12) / 1000;
  it("follow the UI language at the ticks' spacing", () => {
    const days = [noon, noon + 86400 * 2];
    expect(formatWallTicks(days, "en")[0]).toMatch(/^Dec [45]$/);
    expect(formatWallTicks(days, "zh")[0]).toMatch(/^12月[45]日$/);
    expect(formatWallTicks([noon, noon + 3600, null], "zh")).toEqual([expect.stringMatching(/^\d\d:00$/), expect.stringMatching(/^\d\d:00$/), ""]);
    expect(formatWallTicks([noon, noon + 10], "en")[1]).toMatch(/^\d\d:00:10$/);
  });
});
