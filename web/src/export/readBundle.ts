/** The bundle the server embedded in the export, or null when there is none (the file as built, or
 * its data cut off). */
import type { Bundle } from "../panels/types";

export function readBundle(text: string): Bundle | null {
  const trimmed = text.trim();
  if (!trimmed || trimmed.startsWith("<!--")) return null;
  try {
    const value = JSON.parse(trimmed) as Partial<Bundle> | null;
    if (!value || typeof value !== "object" || !value.report || !value.runs) return null;
    return { runsets: {}, series: {}, media: {}, importance: {}, histograms: {}, generated_at: 0, ...value } as Bundle;
  } catch {
    return null;
  }
}
