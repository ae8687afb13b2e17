/**
 * An image with its segmentation masks and bounding boxes drawn over it (wandb's formats, see
 * sdk/media/_masks.py and _boxes.py): a canvas on top of the <img> paints each mask pixel in
 * its class colour, translucent, and each box as a rectangle with its caption and scores.
 * Every mask or box set, and every class in it, has a checkbox; table thumbnails leave out
 * captions and keep the same checkboxes in a small popover opened by a button beside the picture.
 *
 * Data contract: the image stub's `masks` / `boxes` map a set name to a file stub
 * (`{_type: "mask" | "boxes2D", path, class_labels?}`); a mask file is a greyscale PNG whose
 * pixel value is the class id; a boxes file is `{box_data: [...], class_labels: {id: name}}`.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { createPortal } from "react-dom";
import { useTranslation } from "react-i18next";
import { mediaFileUrl, type FileUrl } from "../api/endpoints";
import type { RunRef } from "../api/types";

type Labels = Record<string, string>;
interface FileStub {
  path?: unknown;
  class_labels?: unknown;
}
/** An image-file stub: `width`, `height`, `masks`, `boxes`, `classes` are read from it. */
export type OverlayStub = Record<string, unknown>;
interface Box {
  position: { minX?: number; maxX?: number; minY?: number; maxY?: number; middle?: [number, number]; width?: number; height?: number };
  domain?: string;
  class_id?: number;
  box_caption?: string;
  scores?: Record<string, number>;
}
interface MaskData {
  width: number;
  height: number;
  ids: Uint8Array;
}
type Kind = "mask" | "box";
interface Layer {
  kind: Kind;
  name: string;
  labels: Labels;
  mask?: MaskData;
  boxes?: Box[];
}

/** Distinct colours by class id (id modulo the list length). */
const PALETTE: [number, number, number][] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
  [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [170, 110, 40], [128, 0, 0],
];
const MASK_ALPHA = 115; // of 255: the image stays visible under the mask

export function classColour(id: number): [number, number, number] {
  return PALETTE[((id % PALETTE.length) + PALETTE.length) % PALETTE.length] as [number, number, number];
}

function entries(value: unknown): [string, FileStub][] {
  return value && typeof value === "object" && !Array.isArray(value) ? (Object.entries(value) as [string, FileStub][]) : [];
}

function asLabels(value: unknown): Labels {
  const out: Labels = {};
  for (const [k, v] of entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The image-wide names from `classes: [{id, name}]`, used where a set names no class. */
function classNames(value: unknown): Labels {
  const out: Labels = {};
  if (!Array.isArray(value)) return out;
  for (const c of value as { id?: unknown; name?: unknown }[]) if (c && typeof c.name === "string") out[String(c.id)] = c.name;
  return out;
}

export function hasOverlays(stub: OverlayStub): boolean {
  return entries(stub.masks).length > 0 || entries(stub.boxes).length > 0;
}

async function loadMask(url: string): Promise<MaskData> {
  const img = new Image();
  img.src = url;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2d context");
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const ids = new Uint8Array(canvas.width * canvas.height);
  for (let i = 0; i < ids.length; i++) ids[i] = rgba[i * 4] as number; // greyscale: R is the class id
  return { width: canvas.width, height: canvas.height, ids };
}

async function loadBoxes(url: string): Promise<{ boxes: Box[]; labels: Labels }> {
  const r = await fetch(url, { credentials: "same-origin" });
  const json = (await r.json()) as { box_data?: Box[]; class_labels?: unknown };
  return { boxes: Array.isArray(json.box_data) ? json.box_data : [], labels: asLabels(json.class_labels) };
}

/** Every mask and box set of an image, loaded; `null` while loading. */
function useLayers(stub: OverlayStub, runRef?: RunRef, fileUrl?: FileUrl): Layer[] | null {
  const [layers, setLayers] = useState<Layer[] | null>(null);
  const key = JSON.stringify([stub.masks, stub.boxes]);
  useEffect(() => {
    let live = true;
    const fallback = classNames(stub.classes);
    const jobs: Promise<Layer | null>[] = [];
    for (const [name, file] of entries(stub.masks)) {
      const url = typeof file.path === "string" ? mediaFileUrl(file.path, runRef, fileUrl) : null;
      if (url) jobs.push(loadMask(url).then((mask) => ({ kind: "mask" as const, name, labels: { ...fallback, ...asLabels(file.class_labels) }, mask }), () => null));
    }
    for (const [name, file] of entries(stub.boxes)) {
      const url = typeof file.path === "string" ? mediaFileUrl(file.path, runRef, fileUrl) : null;
      if (url) jobs.push(loadBoxes(url).then(({ boxes, labels }) => ({ kind: "box" as const, name, labels: { ...fallback, ...labels }, boxes }), () => null));
    }
    void Promise.all(jobs).then((all) => live && setLayers(all.filter((l): l is Layer => l !== null)));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for the sets
  }, [key, runRef, fileUrl]);
  return layers;
}

/** The class ids a set uses or names, in order. */
function classIds(layer: Layer): number[] {
  const ids = new Set(Object.keys(layer.labels).map(Number));
  if (layer.mask) for (const id of new Set(layer.mask.ids)) ids.add(id);
  for (const b of layer.boxes ?? []) if (typeof b.class_id === "number") ids.add(b.class_id);
  return [...ids].filter(Number.isFinite).sort((a, b) => a - b);
}

function className(layer: Layer, id: number): string {
  return layer.labels[String(id)] ?? `class_${id}`;
}

/** A box in image pixels: [x, y, width, height]. */
function boxRect(box: Box, width: number, height: number): [number, number, number, number] | null {
  const p = box.position ?? {};
  let rect: [number, number, number, number] | null = null;
  if (p.minX !== undefined && p.maxX !== undefined && p.minY !== undefined && p.maxY !== undefined) rect = [p.minX, p.minY, p.maxX - p.minX, p.maxY - p.minY];
  else if (Array.isArray(p.middle) && p.width !== undefined && p.height !== undefined) rect = [p.middle[0] - p.width / 2, p.middle[1] - p.height / 2, p.width, p.height];
  if (!rect || rect.some((v) => !Number.isFinite(v))) return null;
  if (box.domain === "pixel") return rect;
  return [rect[0] * width, rect[1] * height, rect[2] * width, rect[3] * height];
}

function boxLabel(layer: Layer, box: Box): string {
  const caption = box.box_caption ?? (typeof box.class_id === "number" ? className(layer, box.class_id) : "");
  const scores = Object.entries(box.scores ?? {}).map(([k, v]) => `${k}: ${Number(v).toFixed(2)}`);
  return [caption, ...scores].filter(Boolean).join(" ");
}

function drawMask(ctx: CanvasRenderingContext2D, mask: MaskData, visible: (id: number) => boolean, w: number, h: number) {
  const off = document.createElement("canvas");
  off.width = mask.width;
  off.height = mask.height;
  const octx = off.getContext("2d");
  if (!octx) return;
  const data = octx.createImageData(mask.width, mask.height);
  for (let i = 0; i < mask.ids.length; i++) {
    const id = mask.ids[i] as number;
    if (!visible(id)) continue;
    const [r, g, b] = classColour(id);
    data.data.set([r, g, b, MASK_ALPHA], i * 4);
  }
  octx.putImageData(data, 0, 0);
  ctx.imageSmoothingEnabled = false; // class edges stay sharp when a small mask is scaled up
  ctx.drawImage(off, 0, 0, w, h);
}

function drawBoxes(ctx: CanvasRenderingContext2D, layer: Layer, visible: (id: number) => boolean, scale: [number, number], image: [number, number], captions: boolean) {
  ctx.lineWidth = 2;
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "top";
  for (const box of layer.boxes ?? []) {
    const id = typeof box.class_id === "number" ? box.class_id : 0;
    if (!visible(id)) continue;
    const rect = boxRect(box, image[0], image[1]);
    if (!rect) continue;
    const [x, y, w, h] = [rect[0] * scale[0], rect[1] * scale[1], rect[2] * scale[0], rect[3] * scale[1]];
    const colour = `rgb(${classColour(id).join(",")})`;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x, y, w, h);
    const label = captions ? boxLabel(layer, box) : "";
    if (!label) continue;
    const tw = ctx.measureText(label).width + 6;
    const ty = y >= 16 ? y - 16 : y; // above the box, or inside it at the top edge
    const tx = Math.max(0, Math.min(x, ctx.canvas.clientWidth - tw)); // kept inside the picture
    ctx.fillStyle = colour;
    ctx.fillRect(tx, ty, tw, 16);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, tx + 3, ty + 2);
  }
}

interface Props {
  src: string;
  alt: string;
  stub: OverlayStub;
  /** The run whose files the masks and boxes are… */
  runRef?: RunRef;
  /** …or where they are instead (an artifact's files). */
  fileUrl?: FileUrl;
  /** A table thumbnail: no captions, and the checkboxes in a popover. */
  thumb?: boolean;
  imgClassName?: string;
}

export function OverlayImage({ src, alt, stub, runRef, fileUrl, thumb = false, imgClassName }: Props) {
  const layers = useLayers(stub, runRef, fileUrl);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [size, setSize] = useState<[number, number]>([0, 0]);
  const img = useRef<HTMLImageElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const el = img.current;
    if (!el) return;
    const measure = () => setSize([el.clientWidth, el.clientHeight]);
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    el.addEventListener("load", measure);
    measure();
    return () => {
      observer.disconnect();
      el.removeEventListener("load", measure);
    };
  }, []);

  useEffect(() => {
    const el = canvas.current;
    const picture = img.current;
    if (!el || !picture || !layers) return;
    const [w, h] = size;
    const dpr = window.devicePixelRatio || 1;
    el.width = Math.round(w * dpr);
    el.height = Math.round(h * dpr);
    const ctx = el.getContext("2d");
    if (!ctx || w === 0 || h === 0) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const imageSize: [number, number] = [Number(stub.width) || picture.naturalWidth || w, Number(stub.height) || picture.naturalHeight || h];
    for (const layer of layers) {
      const set = `${layer.kind}:${layer.name}`;
      if (hidden.has(set)) continue;
      const visible = (id: number) => !hidden.has(`${set}:${id}`);
      if (layer.mask) drawMask(ctx, layer.mask, visible, w, h);
      else drawBoxes(ctx, layer, visible, [w / imageSize[0], h / imageSize[1]], imageSize, !thumb);
    }
  }, [layers, hidden, size, stub.width, stub.height, thumb]);

  const toggle = (key: string) =>
    setHidden((prev) => {
      const next = new Set(prev);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  return (
    <div className={thumb ? "overlay overlay-thumb" : "overlay"}>
      <div className="overlay-stack">
        <img ref={img} src={src} alt={alt} className={imgClassName} width={Number(stub.width) || undefined} height={Number(stub.height) || undefined} loading={thumb ? "lazy" : undefined} />
        <canvas ref={canvas} className="overlay-canvas" data-testid="overlay-canvas" aria-hidden="true" />
      </div>
      {layers && layers.length > 0 && (thumb ? <OverlayPopover label={alt} layers={layers} hidden={hidden} toggle={toggle} /> : <OverlayControls layers={layers} hidden={hidden} toggle={toggle} />)}
    </div>
  );
}

/**
 * The class toggles of a table thumbnail: a button beside it opens them in a floating panel. Table
 * cells clip and their rows are transformed, so the panel is portalled (to the enclosing dialog, or
 * the page) and placed under the button; Escape, a click elsewhere or a scroll closes it.
 */
function OverlayPopover({ label, ...controls }: { label: string; layers: Layer[]; hidden: ReadonlySet<string>; toggle: (key: string) => void }) {
  const { t } = useTranslation();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const [at, setAt] = useState<{ left: number; top: number; host: Element } | null>(null);
  const id = useId();
  const close = (refocus: boolean) => {
    setAt(null);
    if (refocus) button.current?.focus();
  };
  useEffect(() => {
    if (!at) return;
    panel.current?.querySelector("input")?.focus();
    const outside = (event: Event) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    document.addEventListener("pointerdown", outside, true);
    document.addEventListener("scroll", outside, true);
    return () => {
      document.removeEventListener("pointerdown", outside, true);
      document.removeEventListener("scroll", outside, true);
    };
  }, [at]);
  const open = () => {
    const el = button.current;
    if (!el) return;
    if (at) return close(false);
    const r = el.getBoundingClientRect();
    setAt({ left: r.left, top: r.bottom + 4, host: el.closest("dialog") ?? document.body });
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== "Escape") return;
    event.stopPropagation(); // an enclosing dialog stays open
    event.preventDefault();
    close(true);
  };
  return (
    <>
      <button ref={button} type="button" className="overlay-popover-button" aria-label={t("run.overlayClassesOf", { name: label })} title={t("run.overlayClasses")} aria-expanded={at !== null} aria-controls={at ? id : undefined} onClick={open} onKeyDown={onKey}>
        <span aria-hidden="true">☰</span>
      </button>
      {at &&
        createPortal(
          <div ref={panel} id={id} role="dialog" aria-label={t("run.overlayClassesOf", { name: label })} className="overlay-popover" style={{ left: at.left, top: at.top }} onKeyDown={onKey}>
            <OverlayControls {...controls} />
          </div>,
          at.host,
        )}
    </>
  );
}

function OverlayControls({ layers, hidden, toggle }: { layers: Layer[]; hidden: ReadonlySet<string>; toggle: (key: string) => void }) {
  const { t } = useTranslation();
  const sets = useMemo(() => layers.map((layer) => ({ layer, ids: classIds(layer) })), [layers]);
  return (
    <div className="overlay-controls">
      {sets.map(({ layer, ids }) => {
        const set = `${layer.kind}:${layer.name}`;
        const title = t(layer.kind === "mask" ? "run.overlayMasks" : "run.overlayBoxes", { name: layer.name });
        return (
          <fieldset key={set} className="overlay-set">
            <legend>
              <label>
                <input type="checkbox" checked={!hidden.has(set)} onChange={() => toggle(set)} />
                {title}
              </label>
            </legend>
            {ids.map((id) => (
              <label key={id} className="overlay-class">
                <input type="checkbox" checked={!hidden.has(`${set}:${id}`)} disabled={hidden.has(set)} onChange={() => toggle(`${set}:${id}`)} />
                <span className="swatch" style={{ background: `rgb(${classColour(id).join(",")})` }} aria-hidden="true" />
                {className(layer, id)}
              </label>
            ))}
          </fieldset>
        );
      })}
    </div>
  );
}
