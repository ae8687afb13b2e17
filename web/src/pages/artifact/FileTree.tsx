/**
 * An artifact version's files as folders one opens (native <details>, so the keyboard works as
 * everywhere), each file a button that previews it and a download link. A filter box lists the
 * matching paths flat; a folder or a filter shows at most LIMIT entries.
 */
import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ManifestEntry } from "../../api/types";
import { formatBytes } from "../../lib/format";

const LIMIT = 500;

interface Folder {
  folders: Map<string, Folder>;
  files: [name: string, path: string][];
}

function buildTree(paths: string[]): Folder {
  const root: Folder = { folders: new Map(), files: [] };
  for (const path of paths) {
    const parts = path.split("/");
    let at = root;
    for (const part of parts.slice(0, -1)) {
      let next = at.folders.get(part);
      if (!next) at.folders.set(part, (next = { folders: new Map(), files: [] }));
      at = next;
    }
    at.files.push([parts[parts.length - 1] as string, path]);
  }
  return root;
}

interface Props {
  entries: Record<string, ManifestEntry>;
  selected: string | null;
  onSelect: (path: string) => void;
  fileUrl: (path: string) => string | null;
}

export function FileTree({ entries, selected, onSelect, fileUrl }: Props) {
  const { t } = useTranslation();
  const [needle, setNeedle] = useState("");
  const id = useId();
  const paths = useMemo(() => Object.keys(entries).sort(), [entries]);
  const tree = useMemo(() => buildTree(paths), [paths]);
  const matches = needle ? paths.filter((p) => p.toLowerCase().includes(needle.toLowerCase())) : null;
  const file = (label: string, path: string) => (
    <FileRow key={path} label={label} path={path} entry={entries[path] as ManifestEntry} selected={selected === path} onSelect={onSelect} url={fileUrl(path)} />
  );
  return (
    <div className="file-tree" data-testid="file-tree">
      <label htmlFor={id} className="sr-only">
        {t("artifacts.filterFiles")}
      </label>
      <input id={id} type="search" placeholder={t("artifacts.filterFiles")} value={needle} onChange={(e) => setNeedle(e.target.value)} />
      {matches ? (
        <ul>
          {matches.slice(0, LIMIT).map((p) => file(p, p))}
          {matches.length > LIMIT && <li className="muted">{t("artifacts.moreFiles", { count: matches.length - LIMIT })}</li>}
        </ul>
      ) : (
        <FolderList folder={tree} depth={0} file={file} />
      )}
    </div>
  );
}

function FolderList({ folder, depth, file }: { folder: Folder; depth: number; file: (label: string, path: string) => React.ReactNode }) {
  const { t } = useTranslation();
  const folders = [...folder.folders.entries()].sort(([a], [b]) => a.localeCompare(b));
  const files = folder.files.slice(0, LIMIT);
  return (
    <ul>
      {folders.map(([name, sub]) => (
        <li key={name}>
          <details open={depth === 0 && folders.length + folder.files.length <= 20}>
            <summary className="folder">{name}/</summary>
            <FolderList folder={sub} depth={depth + 1} file={file} />
          </details>
        </li>
      ))}
      {files.map(([name, path]) => file(name, path))}
      {folder.files.length > LIMIT && <li className="muted">{t("artifacts.moreFiles", { count: folder.files.length - LIMIT })}</li>}
    </ul>
  );
}

interface RowProps {
  label: string;
  path: string;
  entry: ManifestEntry;
  selected: boolean;
  onSelect: (path: string) => void;
  url: string | null;
}

function FileRow({ label, path, entry, selected, onSelect, url }: RowProps) {
  const { t } = useTranslation();
  return (
    <li className="file-row" data-path={path}>
      <button type="button" className="link-button" aria-current={selected ? "true" : undefined} onClick={() => onSelect(path)}>
        {label}
      </button>{" "}
      <span className="muted small">{entry.ref ? t("artifacts.reference") : formatBytes(entry.size)}</span>
      {url && !entry.ref && (
        <>
          {" "}
          <a href={url} download={label} aria-label={t("artifacts.downloadFile", { path })} className="small">
            ⤓
          </a>
        </>
      )}
    </li>
  );
}
