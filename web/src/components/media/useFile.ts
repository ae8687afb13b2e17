/** A run file's bytes, fetched once per URL: `undefined` while loading, `null` if that failed. */
import { useEffect, useState } from "react";

export function useFile(url: string): ArrayBuffer | null | undefined {
  const [content, setContent] = useState<{ url: string; value: ArrayBuffer | null } | null>(null);
  useEffect(() => {
    let live = true;
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(String(r.status)))))
      .then((value) => live && setContent({ url, value }))
      .catch(() => live && setContent({ url, value: null }));
    return () => {
      live = false;
    };
  }, [url]);
  return content?.url === url ? content.value : undefined;
}

export const utf8 = (buffer: ArrayBuffer): string => new TextDecoder().decode(buffer);
