/**
 * A 3-D object with three.js: wandb's point clouds (`.pts.json`: rows of `[x, y, z]`,
 * `[x, y, z, category]` or `[x, y, z, r, g, b]`, or a `lidar/beta` scene with boxes and vectors)
 * and OBJ, STL, glTF/GLB models. Drag to orbit, wheel to zoom; it redraws only on a change.
 * A box's label and score are drawn as text above whichever corner is highest on screen (HTML
 * tags over the canvas, moved on every redraw), in the box's colour.
 */
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OBJLoader } from "three/examples/jsm/loaders/OBJLoader.js";
import { STLLoader } from "three/examples/jsm/loaders/STLLoader.js";
import { parseTableJson } from "../../lib/tables";
import { useFile, utf8 } from "./useFile";

const HEIGHT = 360;
/** Colours of point categories 1..14 (wandb's supported range); others wrap around. */
const CATEGORY = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#000075"];
const MESH_FORMATS = new Set(["obj", "stl", "gltf", "glb"]);

type Row = number[];
interface Scene {
  points?: Row[];
  boxes?: { corners?: Row[]; color?: Row; label?: string | null; score?: number | null }[];
  vectors?: { start?: Row; end?: Row }[];
}

function colour(rgb: Row | undefined): THREE.Color {
  if (!rgb || rgb.length < 3) return new THREE.Color("#1f77b4");
  const scale = rgb.some((v) => v > 1) ? 255 : 1;
  return new THREE.Color((rgb[0] ?? 0) / scale, (rgb[1] ?? 0) / scale, (rgb[2] ?? 0) / scale);
}

function pointsObject(rows: Row[]): THREE.Points {
  const positions = new Float32Array(rows.length * 3);
  const colours = new Float32Array(rows.length * 3);
  const scale = rows.some((r) => r.length >= 6 && (r[3]! > 1 || r[4]! > 1 || r[5]! > 1)) ? 255 : 1;
  rows.forEach((r, i) => {
    positions.set([Number(r[0]) || 0, Number(r[1]) || 0, Number(r[2]) || 0], i * 3);
    let c: THREE.Color;
    if (r.length >= 6) c = new THREE.Color(r[3]! / scale, r[4]! / scale, r[5]! / scale);
    else if (r.length === 4) c = new THREE.Color(CATEGORY[(Math.max(1, Math.round(r[3]!)) - 1) % CATEGORY.length]);
    else c = new THREE.Color("#1f77b4");
    colours.set([c.r, c.g, c.b], i * 3);
  });
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
  geometry.setAttribute("color", new THREE.BufferAttribute(colours, 3));
  return new THREE.Points(geometry, new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, vertexColors: true }));
}

/** A box's 12 edges: its corners are in wandb's order (x, y, z each -1 then 1), so an edge joins two corners one bit apart. */
function boxObject(corners: Row[], rgb: Row | undefined): THREE.LineSegments {
  const vertices: number[] = [];
  for (let i = 0; i < 8; i++) {
    for (const bit of [1, 2, 4]) {
      const j = i ^ bit;
      if (j > i) vertices.push(...(corners[i] ?? [0, 0, 0]).slice(0, 3), ...(corners[j] ?? [0, 0, 0]).slice(0, 3));
    }
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(vertices, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color: colour(rgb) }));
}

function vectorsObject(vectors: { start?: Row; end?: Row }[]): THREE.LineSegments {
  const vertices = vectors.flatMap((v) => [...(v.start ?? [0, 0, 0]).slice(0, 3), ...(v.end ?? [0, 0, 0]).slice(0, 3)]);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(vertices, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color: "#333333" }));
}

/** A box's caption: its label and its score (2 decimals), whichever it has. */
interface Tag {
  text: string;
  corners: THREE.Vector3[];
  colour: string;
}

function boxTag(box: NonNullable<Scene["boxes"]>[number], corners: Row[]): Tag | null {
  const score = typeof box.score === "number" && Number.isFinite(box.score) ? box.score.toFixed(2) : "";
  const text = [box.label ?? "", score].filter(Boolean).join(" ");
  if (!text) return null;
  const points = corners.map((c) => new THREE.Vector3(Number(c[0]) || 0, Number(c[1]) || 0, Number(c[2]) || 0));
  return { text, corners: points, colour: `#${colour(box.color).getHexString()}` };
}

/** The objects of a `.pts.json` file, how many points it has, and its boxes' captions. */
function pointCloud(text: string): { group: THREE.Group; count: number; tags: Tag[] } {
  const parsed = parseTableJson(text) as unknown as Row[] | Scene;
  const scene: Scene = Array.isArray(parsed) ? { points: parsed } : parsed;
  const group = new THREE.Group();
  const rows = (scene.points ?? []).filter((r) => Array.isArray(r) && r.length >= 3);
  group.add(pointsObject(rows));
  const tags: Tag[] = [];
  for (const box of scene.boxes ?? []) {
    if (!Array.isArray(box.corners) || box.corners.length !== 8) continue;
    group.add(boxObject(box.corners, box.color));
    const tag = boxTag(box, box.corners);
    if (tag) tags.push(tag);
  }
  if (scene.vectors?.length) group.add(vectorsObject(scene.vectors));
  return { group, count: rows.length, tags };
}

/** HTML captions over the canvas, each kept above its box's top corner on screen. */
function tagLayer(host: HTMLElement, tags: Tag[]): (camera: THREE.Camera, width: number) => void {
  const spans = tags.map((tag) => {
    const span = document.createElement("span");
    span.className = "media-3d-tag";
    span.dataset.testid = "box3d-tag";
    span.textContent = tag.text;
    span.style.background = tag.colour;
    host.appendChild(span);
    return span;
  });
  const where = new THREE.Vector3();
  const corner = new THREE.Vector3();
  return (camera, width) => {
    tags.forEach((tag, i) => {
      const span = spans[i] as HTMLSpanElement;
      where.set(0, -Infinity, 0);
      for (const c of tag.corners) {
        corner.copy(c).project(camera);
        if (corner.y > where.y) where.copy(corner);
      }
      span.hidden = where.z > 1 || Math.abs(where.x) > 1 || Math.abs(where.y) > 1; // behind the camera or off screen
      span.style.transform = `translate(${((where.x + 1) / 2) * width}px, ${((1 - where.y) / 2) * HEIGHT}px) translate(-50%, -100%)`;
    });
  };
}

async function model(buffer: ArrayBuffer, format: string): Promise<THREE.Object3D> {
  const material = new THREE.MeshStandardMaterial({ color: "#8aa4c8", flatShading: true, side: THREE.DoubleSide });
  if (format === "stl") return new THREE.Mesh(new STLLoader().parse(buffer), material);
  if (format === "obj") {
    const object = new OBJLoader().parse(utf8(buffer));
    object.traverse((o) => {
      if (o instanceof THREE.Mesh) o.material = material;
    });
    return object;
  }
  const gltf = await new GLTFLoader().parseAsync(buffer, "");
  return gltf.scene;
}

export default function PointCloud({ url, format, label }: { url: string; format: string; label: string }) {
  const { t } = useTranslation();
  const supported = format === "pts.json" || MESH_FORMATS.has(format);
  const content = useFile(url);
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ status: "loading" | "ready" | "failed" | "nowebgl"; points?: number }>({ status: "loading" });

  useEffect(() => {
    const el = host.current;
    if (!el || !content || !supported) return;
    let renderer: THREE.WebGLRenderer;
    try {
      renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    } catch {
      setState({ status: "nowebgl" });
      return;
    }
    let disposed = false;
    const scene = new THREE.Scene();
    scene.background = new THREE.Color("#ffffff");
    scene.add(new THREE.AmbientLight("#ffffff", 1.2), new THREE.DirectionalLight("#ffffff", 2));
    const camera = new THREE.PerspectiveCamera(50, 1, 0.01, 1e6);
    const controls = new OrbitControls(camera, renderer.domElement);
    let placeTags: ReturnType<typeof tagLayer> | null = null;
    const draw = () => {
      renderer.render(scene, camera);
      placeTags?.(camera, el.clientWidth || 480);
    };
    const resize = () => {
      const width = el.clientWidth || 480;
      renderer.setSize(width, HEIGHT);
      camera.aspect = width / HEIGHT;
      camera.updateProjectionMatrix();
      draw();
    };
    renderer.setPixelRatio(window.devicePixelRatio);
    el.appendChild(renderer.domElement);
    controls.addEventListener("change", draw);
    const observer = new ResizeObserver(resize);
    observer.observe(el);
    (async () => {
      let points: number | undefined;
      let object: THREE.Object3D;
      if (format === "pts.json") {
        const cloud = pointCloud(utf8(content));
        object = cloud.group;
        points = cloud.count;
        if (cloud.tags.length) placeTags = tagLayer(el, cloud.tags);
      } else object = await model(content, format);
      if (disposed) return;
      scene.add(object);
      // Look at the whole object from a corner, at a distance that fits its bounding sphere.
      const sphere = new THREE.Box3().setFromObject(object).getBoundingSphere(new THREE.Sphere());
      const radius = sphere.radius || 1;
      camera.position.copy(sphere.center).add(new THREE.Vector3(1, 0.8, 1.2).normalize().multiplyScalar(radius * 2.6));
      camera.near = radius / 100;
      camera.far = radius * 100;
      controls.target.copy(sphere.center);
      controls.update();
      resize();
      setState({ status: "ready", points });
    })().catch(() => !disposed && setState({ status: "failed" }));
    return () => {
      disposed = true;
      observer.disconnect();
      controls.dispose();
      renderer.dispose();
      renderer.domElement.remove();
      for (const tag of el.querySelectorAll(".media-3d-tag")) tag.remove();
    };
  }, [content, format, supported]);

  if (!supported) return <p className="muted">{t("media.unsupported3d", { format })}</p>;
  if (content === null || state.status === "failed") return <p className="error">{t("media.failed")}</p>;
  if (state.status === "nowebgl") return <p className="error">{t("media.noWebgl")}</p>;
  return (
    <div
      ref={host}
      className="media-3d"
      role="img"
      aria-label={label}
      data-testid="object3d"
      data-state={state.status}
      data-points={state.points}
      style={{ height: HEIGHT, position: "relative" }}
    />
  );
}
