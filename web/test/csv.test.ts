import { describe, expect, it } from "vitest";
import { chartCsvRows } from "../src/lib/chartExport";
import { csvCell, fileStem, toCsv } from "../src/lib/csv";
import { buildChartData } from "../src/lib/series";
import { tableCsvRows } from "../src/lib/tableCsv";
import type { Run } from "../src/api/types";

describe("csvCell", () => {
  it("defuses cells a spreadsheet would run as a formula", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"]) {
      const cell = csvCell(`${start}HYPERLINK("http://x","y")`);
      expect(cell.replace(/^"/, "").startsWith(`'${start}`)).toBe(true);
    }
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-cmd")).toBe("'-cmd");
  });
  it("leaves plain text and numbers alone, negative numbers too", () => {
    expect(csvCell("alpha")).toBe("alpha");
    expect(csvCell("a=b")).toBe("a=b");
    expect(csvCell(-0.5)).toBe("-0.5");
    expect(csvCell(1e-20)).toBe("1e-20");
    expect(csvCell(NaN)).toBe("NaN");
    expect(csvCell(-Infinity)).toBe("-Infinity");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell(true)).toBe("true");
  });
  it("quotes separators, quotes and line breaks (RFC 4180)", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    // Defused and quoted: the apostrophe goes inside the quotes.
    expect(csvCell("=a,b")).toBe(`"'=a,b"`);
    expect(csvCell("\rx")).toBe(`"'\rx"`);
  });
});

describe("toCsv", () => {
  it("writes a BOM, the header, CRLF rows and defuses header cells too", () => {
    expect(toCsv(["run", "=x"], [["alpha", 1], ["学习率", -2]])).toBe("\uFEFFrun,'=x\r\nalpha,1\r\n学习率,-2\r\n");
  });
});

describe("fileStem", () => {
  it("keeps letters and digits, replaces the rest", () => {
    expect(fileStem("eval/acc")).toBe("eval_acc");
    expect(fileStem("损失 (train)")).toBe("损失_train");
    expect(fileStem("///")).toBe("chart");
  });
});

describe("chartCsvRows", () => {
  const series = (run: string, x: number[], values: number[]) => ({ run, key: "loss", downsampled: false, count: x.length, x, values, min: values, max: values });
  const labels = { run: "run", id: "id", x: "step", value: "value", smoothed: "smoothed" };
  const lines = [
    { id: "a1", label: "=alpha", color: "#f00", series: series("a1", [0, 1, 2], [4, 2, 1]) },
    { id: "b2", label: "beta", color: "#00f", series: series("b2", [1, 3], [5, 7]) },
  ];
  it("has one row per point drawn, raw values, no smoothed column without smoothing", () => {
    const { header, rows } = chartCsvRows(buildChartData(lines, { smoothing: 0, logY: false }), labels);
    expect(header).toEqual(["run", "id", "step", "value"]);
    expect(rows).toEqual([
      ["=alpha", "a1", 0, 4],
      ["=alpha", "a1", 1, 2],
      ["=alpha", "a1", 2, 1],
      ["beta", "b2", 1, 5],
      ["beta", "b2", 3, 7],
    ]);
  });
  it("adds the smoothed value beside the raw one when smoothing is on", () => {
    const { header, rows } = chartCsvRows(buildChartData(lines, { smoothing: 0.5, logY: false }), labels);
    expect(header).toEqual(["run", "id", "step", "value", "smoothed"]);
    expect(rows.map((r) => r[3])).toEqual([4, 2, 1, 5, 7]);
    expect(rows[0]?.[4]).toBe(4); // debiased: the first point is itself
    expect(rows[1]?.[4]).toBeCloseTo(8 / 3, 6);
  });
});

describe("tableCsvRows", () => {
  const run = {
    id: "r1", entity: "t", project: "p", name: "=cmd|' /C calc'!A0", state: "finished", group: null, job_type: "train",
    tags: ["a", "b"], notes: null, config: { lr: 0.001, opt: { name: "adam" } }, summary: { acc: { last: 0.5, max: 0.9 }, loss: -1.25 },
    host: null, created_at: 0, updated_at: 0, heartbeat_at: 0, finished_at: null, runtime: 12.5, exit_code: 0, last_step: 3,
  } as unknown as Run;
  it("writes the data of the columns shown, the id after the name, prefixed config and summary headers", () => {
    const columns = [
      { id: "name", header: "Name" },
      { id: "tags", header: "Tags" },
      { id: "created_at", header: "Created" },
      { id: "runtime", header: "Duration" },
      { id: "config:opt", header: "opt" },
      { id: "config:lr", header: "lr" },
      { id: "summary:acc", header: "acc" },
      { id: "summary:loss", header: "loss" },
    ];
    const { header, rows } = tableCsvRows(columns, [run]);
    expect(header).toEqual(["Name", "id", "Tags", "Created", "Duration", "config.opt", "config.lr", "summary.acc", "summary.loss"]);
    expect(rows).toEqual([["=cmd|' /C calc'!A0", "r1", "a, b", "1970-01-01T00:00:00.000Z", 12.5, '{"name":"adam"}', 0.001, 0.5, -1.25]]);
    expect(toCsv(header, rows).split("\r\n")[1]).toBe(`'=cmd|' /C calc'!A0,r1,"a, b",1970-01-01T00:00:00.000Z,12.5,"{""name"":""adam""}",0.001,0.5,-1.25`);
  });
});
