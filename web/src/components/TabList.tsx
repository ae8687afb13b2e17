/**
 * Tabs as the WAI-ARIA tabs pattern has them: one tab is the list's tab stop, and the arrow keys,
 * Home and End move to another tab and select it. The stop follows keyboard focus at once
 * (`tabStop`), not only the selection, which comes back through the URL a render later.
 */
import { useState, type FocusEvent, type KeyboardEvent } from "react";
import { tabStep, tabStop } from "../lib/tabs";

export interface TabListProps<T extends string> {
  tabs: readonly { id: T; label: string }[];
  selected: T;
  onSelect: (tab: T) => void;
  label: string;
  /** Each tab's DOM id is `${idPrefix}-${tab id}` (for the panel's aria-labelledby). */
  idPrefix?: string;
  /** The DOM id of the panel the tabs show. */
  panelId?: string;
}

export function TabList<T extends string>({ tabs, selected, onSelect, label, idPrefix, panelId }: TabListProps<T>) {
  const [focused, setFocused] = useState<T | null>(null);
  const stop = tabStop(
    tabs.map((tab) => tab.id),
    selected,
    focused,
  );
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    // Step from the focused tab, not from `selected`: a key pressed before the last selection's
    // render lands would otherwise step from the tab before it.
    const buttons = Array.from(event.currentTarget.querySelectorAll<HTMLElement>("[role=tab]"));
    const focusedAt = buttons.indexOf(event.target as HTMLElement);
    const at = focusedAt >= 0 ? focusedAt : tabs.findIndex((tab) => tab.id === selected);
    const index = tabStep(event.key, at, tabs.length);
    if (index === undefined) return;
    event.preventDefault();
    onSelect((tabs[index] as { id: T }).id);
    buttons[index]?.focus(); // its onFocus makes it the stop
  }
  function onBlur(event: FocusEvent<HTMLDivElement>) {
    // Focus left the list: the selected tab is the stop again (where Tab comes back to).
    if (!event.currentTarget.contains(event.relatedTarget)) setFocused(null);
  }
  return (
    <div role="tablist" className="tabs" aria-label={label} onKeyDown={onKeyDown} onBlur={onBlur}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          id={idPrefix && `${idPrefix}-${tab.id}`}
          aria-selected={tab.id === selected}
          aria-controls={panelId}
          tabIndex={tab.id === stop ? 0 : -1}
          onFocus={() => setFocused(tab.id)}
          onClick={() => onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
