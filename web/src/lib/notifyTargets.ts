/**
 * Settings forms over the server's list of targets (server/notify/settings.py): which events go to
 * the bell and to one e-mail address, as a person picks them in a table of events × channels.
 * Targets the table does not show (webhooks, more addresses, set through the API) pass through a
 * save unchanged.
 */
import { NOTIFICATION_EVENTS, type NotificationEvent, type NotificationTarget } from "../api/types";

export interface ChannelChoice {
  /** Events that reach the bell. */
  inapp: NotificationEvent[];
  /** Events mailed to `address`. */
  email: NotificationEvent[];
  address: string;
  /** Targets the form leaves as they are. */
  others: NotificationTarget[];
}

/** `events` in the server's order, without repeats (a target without `events` means every one). */
export function orderedEvents(events: readonly string[] | undefined): NotificationEvent[] {
  if (events === undefined) return [...NOTIFICATION_EVENTS];
  return NOTIFICATION_EVENTS.filter((event) => events.includes(event));
}

/** `events` with `event` added or taken out, in the server's order. */
export function toggleEvent(events: readonly NotificationEvent[], event: NotificationEvent, on: boolean): NotificationEvent[] {
  return NOTIFICATION_EVENTS.filter((e) => (e === event ? on : events.includes(e)));
}

/** The form's view of saved targets: the first in-app and the first e-mail target are the table's. */
export function choiceFromTargets(targets: readonly NotificationTarget[]): ChannelChoice {
  const choice: ChannelChoice = { inapp: [], email: [], address: "", others: [] };
  let inapp = false;
  let email = false;
  for (const target of targets) {
    if (target.channel === "inapp" && !inapp) {
      inapp = true;
      choice.inapp = orderedEvents(target.events);
    } else if (target.channel === "email" && !email) {
      email = true;
      choice.email = orderedEvents(target.events);
      choice.address = target.address ?? "";
    } else {
      choice.others.push(target);
    }
  }
  return choice;
}

/** The targets to save: a channel with no event picked is left out. */
export function targetsFromChoice(choice: ChannelChoice): NotificationTarget[] {
  const targets: NotificationTarget[] = [];
  if (choice.inapp.length > 0) targets.push({ channel: "inapp", events: [...choice.inapp] });
  if (choice.email.length > 0) targets.push({ channel: "email", events: [...choice.email], address: choice.address.trim() });
  return [...targets, ...choice.others];
}

/** A project subscription is on when it sends anything anywhere. */
export function isSubscribed(targets: readonly NotificationTarget[]): boolean {
  return targets.some((target) => orderedEvents(target.events).length > 0);
}

/** What turning a subscription on saves: every event of the project's runs to the bell. */
export const SUBSCRIBE_ALL: NotificationTarget[] = [{ channel: "inapp", events: [...NOTIFICATION_EVENTS] }];
