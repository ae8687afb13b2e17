/** Saves a string or blob as a file through the browser's download (a temporary object URL). */
export function download(name: string, content: Blob | string, type = "text/csv;charset=utf-8"): void {
  const blob = typeof content === "string" ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A `data:` URL (ECharts' getDataURL) as a blob; fetch() would be refused by the CSP's connect-src. */
export function dataUrlBlob(url: string): Blob {
  const [head = "", body = ""] = url.split(",", 2);
  const type = /^data:([^;,]+)/.exec(head)?.[1] ?? "application/octet-stream";
  if (!head.endsWith(";base64")) return new Blob([decodeURIComponent(body)], { type });
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}
