/**
 * A molecule with 3Dmol.js (made for exactly this: it reads PDB, PQR, mmCIF, SDF, MOL2, GRO and
 * MMTF itself), drawn as sticks with small atom spheres, hydrogens kept (logged structures are
 * usually small ones where they matter). Drag to rotate, wheel to zoom.
 */
import { createViewer } from "3dmol";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useFile, utf8 } from "./useFile";

const HEIGHT = 360;
/** The SDK keeps wandb's extensions; 3Dmol names some formats differently. */
const FORMAT: Record<string, string> = { mmcif: "cif", mcif: "cif", sd: "sdf" };

export default function MoleculeView({ url, format, label }: { url: string; format: string; label: string }) {
  const { t } = useTranslation();
  const binary = format === "mmtf";
  const content = useFile(url);
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | "failed">("loading");

  useEffect(() => {
    const el = host.current;
    if (!el || !content) return;
    try {
      const viewer = createViewer(el, { backgroundColor: "white" });
      const model = viewer.addModel(binary ? new Uint8Array(content) : utf8(content), FORMAT[format] ?? format, { keepH: true });
      const atoms = model.selectedAtoms({}).length;
      viewer.setStyle({}, { stick: { radius: 0.15 }, sphere: { scale: 0.25 } });
      viewer.zoomTo();
      viewer.render();
      el.dataset.atoms = String(atoms);
      setState(atoms > 0 ? "ready" : "failed");
      return () => {
        viewer.clear();
        el.replaceChildren();
      };
    } catch {
      setState("failed");
      return undefined;
    }
  }, [content, format, binary]);

  if (content === null || state === "failed") return <p className="error">{t("media.failed")}</p>;
  return <div ref={host} className="media-molecule" role="img" aria-label={label} data-testid="molecule" data-state={state} style={{ height: HEIGHT, position: "relative" }} />;
}
