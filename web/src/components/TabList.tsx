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
    // Step from the focused tab, not from `selected`: a key pressed before the last selection's
    // render lands would otherwise step from the tab before it.
    const buttons = Array.from(event.currentTarget.querySelectorAll<HTMLElement>("[role=tab]"));
    const focused = buttons.indexOf(event.target as HTMLElement);
    const at = focused >= 0 ? focused : tabs.findIndex((tab) => tab.id === selected);
    const step: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    const to = step[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const index = (to + tabs.length) % tabs.length;
    onSelect((tabs[index] as { id: T }).id);
    buttons[index]?.focus();
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
