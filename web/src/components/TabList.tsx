/**
 * Tabs as the WAI-ARIA tabs pattern has them: the selected tab is the list's one tab stop, and
 * the arrow keys, Home and End move to another tab and select it.
 */
import type { KeyboardEvent } from "react";

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
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const at = tabs.findIndex((tab) => tab.id === selected);
    const step: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    const to = step[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const index = (to + tabs.length) % tabs.length;
    onSelect((tabs[index] as { id: T }).id);
    event.currentTarget.querySelectorAll<HTMLElement>("[role=tab]")[index]?.focus();
  }
  return (
    <div role="tablist" className="tabs" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          id={idPrefix && `${idPrefix}-${tab.id}`}
          aria-selected={tab.id === selected}
          aria-controls={panelId}
          tabIndex={tab.id === selected ? 0 : -1}
          onClick={() => onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
