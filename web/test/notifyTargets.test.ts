import { describe, expect, it } from "vitest";
import type { NotificationTarget } from "../src/api/types";
import { choiceFromTargets, isSubscribed, orderedEvents, targetsFromChoice, toggleEvent } from "../src/lib/notifyTargets";

const webhook: NotificationTarget = { channel: "webhook", url: "https://example.com/hook", format: "slack", events: ["failed"] };

describe("the events × channels form over saved targets", () => {
  it("shows the first bell and e-mail targets and keeps the rest untouched through a save", () => {
    const saved: NotificationTarget[] = [
      { channel: "email", address: "me@example.com", events: ["failed", "alert"] },
      { channel: "inapp", events: ["threshold", "alert", "alert"] },
      webhook,
      { channel: "email", address: "other@example.com", events: ["crashed"] },
    ];
    const choice = choiceFromTargets(saved);
    expect(choice.inapp).toEqual(["alert", "threshold"]);
    expect(choice.email).toEqual(["alert", "failed"]);
    expect(choice.address).toBe("me@example.com");
    expect(choice.others).toEqual([webhook, saved[3]]);
    expect(targetsFromChoice(choice)).toEqual([
      { channel: "inapp", events: ["alert", "threshold"] },
      { channel: "email", events: ["alert", "failed"], address: "me@example.com" },
      webhook,
      saved[3],
    ]);
  });

  it("leaves out a channel with no event picked, and trims the address", () => {
    const choice = { inapp: [], email: ["crashed" as const], address: "  me@example.com ", others: [] };
    expect(targetsFromChoice(choice)).toEqual([{ channel: "email", events: ["crashed"], address: "me@example.com" }]);
    expect(targetsFromChoice({ ...choice, email: [] })).toEqual([]);
  });

  it("reads a target without events as every event (the server's default)", () => {
    expect(orderedEvents(undefined)).toEqual(["alert", "finished", "failed", "crashed", "threshold"]);
    expect(choiceFromTargets([{ channel: "inapp" }]).inapp).toHaveLength(5);
  });

  it("toggles one event and keeps the server's order", () => {
    expect(toggleEvent(["threshold", "alert"], "failed", true)).toEqual(["alert", "failed", "threshold"]);
    expect(toggleEvent(["alert", "failed"], "alert", false)).toEqual(["failed"]);
    expect(toggleEvent(["alert"], "alert", true)).toEqual(["alert"]);
  });
});

describe("a project subscription", () => {
  it("is on when any target hears of any event", () => {
    expect(isSubscribed([])).toBe(false);
    expect(isSubscribed([{ channel: "inapp", events: [] }])).toBe(false);
    expect(isSubscribed([{ channel: "inapp", events: ["failed"] }])).toBe(true);
    expect(isSubscribed([{ channel: "email", address: "a@b.cn" }])).toBe(true);
  });
});
