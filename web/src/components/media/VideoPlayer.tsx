/** A logged video in the browser's player (gif files are images: browsers do not play them as video). */
export function VideoPlayer({ url, label, width, height }: { url: string; label: string; width?: number; height?: number }) {
  // Small videos are drawn at least 240 px wide; pixels stay sharp.
  const scale = width && width < 240 ? Math.ceil(240 / width) : 1;
  if (/\.gif$/i.test(url)) return <img className="media-video" src={url} alt={label} width={width ? width * scale : undefined} height={height ? height * scale : undefined} />;
  return (
    <video
      className="media-video"
      src={url}
      controls
      loop
      muted
      preload="metadata"
      aria-label={label}
      width={width ? width * scale : undefined}
      height={height ? height * scale : undefined}
    />
  );
}
