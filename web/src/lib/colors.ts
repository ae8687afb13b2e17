/**
 * Every run keeps one colour wherever it is drawn: picked from its id, not its position. Runs drawn
 * together never share a colour while the palette lasts: see `runColors`.
 *
 * No two entries look alike: every pair is at least 20 apart in CIEDE2000 (the old palette had
 * maroon 18 from brown and pink 12 from magenta), and each stands out on the white chart at 3:1 or
 * more (WCAG 1.4.11, non-text contrast). web/test/colors.test.ts checks both.
 */
export const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#f03cff", "#5a4b1e", "#693c69",
  "#c38700", "#968787", "#00695a", "#0000ff", "#1ea5a5", "#ff4b87",
];

/** FNV-1a over the id's UTF-16 code units. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function runColor(runId: string): string {
  return PALETTE[hash(runId) % PALETTE.length] as string;
}

/**
 * Colours for runs drawn together. Each run starts at its own palette slot (its `runColor`); one
 * whose slot another run of the set already holds moves on to the next free slot. Runs are taken
 * in id order, so the result depends on which runs are shown, never on the order they were picked in.
 */
export function runColors(runIds: readonly string[]): Map<string, string> {
  const taken = new Set<number>();
  const colors = new Map<string, string>();
  for (const id of [...new Set(runIds)].sort()) {
    const own = hash(id) % PALETTE.length;
    let slot = own;
    for (let i = 0; i < PALETTE.length && taken.has(slot); i++) slot = (own + i + 1) % PALETTE.length;
    taken.add(slot);
    colors.set(id, PALETTE[slot] as string);
  }
  return colors;
}

/** `#rrggbb` with an alpha, for envelopes and faded raw lines. */
export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/** An sRGB colour as 0–255 channels. */
export type Rgb = readonly [number, number, number];

/** WCAG 2 relative luminance. */
function luminance([r, g, b]: Rgb): number {
  const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2 contrast ratio, 1 to 21. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/**
 * `color`, mixed towards white or black (whichever stands out more on `background`) just enough
 * to reach `min` contrast there; unchanged if it already does. A program's dark blue stays a blue,
 * but one that can be read on the dark console (WCAG AA: 4.5:1 for text).
 */
export function readableOn(color: Rgb, background: Rgb, min = 4.5): Rgb {
  if (contrastRatio(color, background) >= min) return color;
  const target = contrastRatio(WHITE, background) >= contrastRatio(BLACK, background) ? WHITE : BLACK;
  const mix = (t: number): Rgb => {
    const channel = (i: 0 | 1 | 2) => Math.round(color[i] + (target[i] - color[i]) * t);
    return [channel(0), channel(1), channel(2)];
  };
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2;
    if (contrastRatio(mix(mid), background) >= min) hi = mid;
    else lo = mid;
  }
  return mix(hi);
}
