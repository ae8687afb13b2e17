/** The eye button that hides a run (or a group of runs) from the charts, or shows it again. */

interface Props {
  hidden: boolean;
  /** What a click does, read out and shown as the tooltip: "Hide run: alpha" or "Show run: alpha". */
  label: string;
  onToggle: () => void;
}

export function VisibilityToggle({ hidden, label, onToggle }: Props) {
  return (
    <button type="button" className="visibility-toggle" aria-label={label} title={label} onClick={onToggle}>
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
        <path d="M1 8s2.5-4.5 7-4.5S15 8 15 8s-2.5 4.5-7 4.5S1 8 1 8z" fill="none" stroke="currentColor" strokeWidth="1.3" />
        <circle cx="8" cy="8" r="2" fill={hidden ? "none" : "currentColor"} stroke="currentColor" strokeWidth="1.3" />
        {hidden && <path d="M2.5 13.5l11-11" stroke="currentColor" strokeWidth="1.5" />}
      </svg>
    </button>
  );
}
