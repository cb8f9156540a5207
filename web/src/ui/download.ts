/**
 * Saves a fetched file under a name. Downloads carry the session token, so they go through fetch
 * and a blob URL rather than a plain link; the URL is let go once the browser has taken the file.
 */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = window.document.createElement('a');
  link.href = url;
  link.download = name;
  window.document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
