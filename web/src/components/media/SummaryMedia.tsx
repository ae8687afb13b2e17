/**
 * Images in the run's summary (a logged image, or a list of them) as small thumbnails, the way the
 * media tab shows them in full; other media keep their `‹kind ×n›` name. Null for anything else.
 */
import type { ReactNode } from "react";
import { mediaFileUrl } from "../../api/endpoints";
import type { RunRef } from "../../api/types";
import { isStubList } from "../../lib/format";

/** Thumbnails shown per value; a longer list says how many more it has. */
const MAX_THUMBS = 8;

type Stub = Record<string, unknown> & { _type: string };

export function summaryMedia(value: unknown, key: string, runRef: RunRef): ReactNode | null {
  const list = isStubList(value) ? value : typeof value === "object" && value !== null && (value as Stub)._type ? [value as Stub] : null;
  if (!list || !list.every((s) => s._type === "image-file" && typeof s.path === "string")) return null;
  const shown = list.slice(0, MAX_THUMBS);
  return (
    <span className="summary-thumbs">
      {shown.map((stub, i) => {
        const url = mediaFileUrl(String(stub.path), runRef);
        if (!url) return null;
        const alt = typeof stub.caption === "string" ? stub.caption : `${key} #${i + 1}`;
        return <img key={i} src={url} alt={alt} title={alt} loading="lazy" />;
      })}
      {list.length > shown.length && <span className="muted">+{list.length - shown.length}</span>}
    </span>
  );
}
