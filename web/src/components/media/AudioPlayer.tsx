/** A logged sound clip in the browser's player; `compact` for table cells. */
export function AudioPlayer({ url, label, compact = false }: { url: string; label: string; compact?: boolean }) {
  return <audio className={compact ? "media-audio compact" : "media-audio"} src={url} controls preload="metadata" aria-label={label} />;
}
