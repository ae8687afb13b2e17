/**
 * Every run keeps one colour wherever it is drawn: picked from its id, not its position. Runs drawn
 * together never share a colour while the palette lasts, and avoid look-alikes (two blues, two
 * olives) while the hue families last: see `runColors`.
 */
export const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#7f7f7f", "#000075", "#800000", "#469990", "#f032e6", "#808000", "#9a6324",
];

/**
 * The hue family of each palette entry: entries of one family are told apart on a chart only side
 * by side, not across a legend (blue/navy, red/maroon, cyan/teal, pink/magenta, olive/yellow, browns).
 */
const FAMILY = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 7, 6, 8, 5];

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
 * whose slot, or a slot of the same hue family, another run of the set already holds moves on to the
 * next slot of an unused family, and once every family is used, to the next free slot. Runs are taken
 * in id order, so the result depends on which runs are shown, never on the order they were picked in.
 */
export function runColors(runIds: readonly string[]): Map<string, string> {
  const taken = new Set<number>();
  const families = new Set<number>();
  const colors = new Map<string, string>();
  const next = (start: number, free: (slot: number) => boolean): number | null => {
    for (let i = 0; i < PALETTE.length; i++) {
      const slot = (start + i) % PALETTE.length;
      if (free(slot)) return slot;
    }
    return null;
  };
  for (const id of [...new Set(runIds)].sort()) {
    const own = hash(id) % PALETTE.length;
    const slot =
      next(own, (s) => !taken.has(s) && !families.has(FAMILY[s] as number)) ?? next(own, (s) => !taken.has(s)) ?? own;
    taken.add(slot);
    families.add(FAMILY[slot] as number);
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
