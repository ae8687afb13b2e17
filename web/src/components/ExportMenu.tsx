/**
 * A chart panel's export menu: a button that opens a short menu of downloads. Keyboard as a menu
 * button: the first item gets focus, arrow keys move, Escape (or Tab, or a click elsewhere) closes
 * it and focus goes back to the button. The button's name is just "Export" (the panel it sits in names
 * the chart; a name holding the metric would also match searches for the metric's own buttons).
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../i18n/errors";

export interface ExportItem {
  id: string;
  label: string;
  run: () => Promise<void> | void;
}

export function ExportMenu({ name, items }: { name: string; items: ExportItem[] }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const el = menu.current;
    // Opens leftwards under the button; on a narrow screen, where that would leave the page, rightwards.
    if (el && el.getBoundingClientRect().left < 0) el.classList.add("from-left");
    el?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    const outside = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  function close(refocus: boolean) {
    setOpen(false);
    if (refocus) button.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const entries = [...(menu.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    } else if (event.key === "Tab") close(false);
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      entries[(at + step + entries.length) % entries.length]?.focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      entries[event.key === "Home" ? 0 : entries.length - 1]?.focus();
    }
  }

  async function choose(item: ExportItem) {
    close(true);
    try {
      setError(null);
      await item.run();
    } catch (e) {
      setError(t("exporting.failed", { message: errorMessage(e) }));
    }
  }

  return (
    <span className="export-menu">
      <button
        type="button"
        ref={button}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={t("exporting.menu")}
        title={t("exporting.menuFor", { name })}
        onClick={() => setOpen(!open)}
        data-testid="export-menu"
      >
        ⤓
      </button>
      {open && (
        <div role="menu" id={menuId} ref={menu} className="menu-popover" aria-label={t("exporting.menuFor", { name })} onKeyDown={onKeyDown}>
          {items.map((item) => (
            <button type="button" role="menuitem" tabIndex={-1} key={item.id} data-export={item.id} onClick={() => void choose(item)}>
              {item.label}
            </button>
          ))}
        </div>
      )}
      {error && (
        <span role="alert" className="error small">
          {error}
        </span>
      )}
    </span>
  );
}
