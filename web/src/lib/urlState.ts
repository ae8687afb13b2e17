/** View state in the URL's query: read with defaults, written with replace (no history spam). */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export function useUrlState(): [URLSearchParams, (changes: Record<string, string | null>, push?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (changes: Record<string, string | null>, push = false) => {
      setParams(
        () => {
          // The URL as it is now, not react-router's params of the last render (what it hands an
          // updater): two changes made before React renders again (two selects changed at once)
          // both stay, where the second used to drop the first.
          const next = new URLSearchParams(window.location.search);
          for (const [k, v] of Object.entries(changes)) {
            if (v === null || v === "") next.delete(k);
            else next.set(k, v);
          }
          return next;
        },
        { replace: !push },
      );
    },
    [setParams],
  );
  return [params, update];
}

export function listParam(params: URLSearchParams, name: string): string[] | null {
  return parseList(params.get(name));
}

/** A list parameter's items: null when the parameter is absent, [] for "-" (explicitly none). */
export function parseList(raw: string | null): string[] | null {
  if (raw === null) return null;
  if (raw === "-") return [];
  return raw.split(",").filter(Boolean).map(decodeURIComponent);
}

export function writeList(items: string[]): string {
  return items.map((s) => encodeURIComponent(s)).join(",");
}
