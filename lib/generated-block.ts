/**
 * A block of a Markdown document that a script renders, between the markers
 * `<!-- NAME:start -->` and `<!-- NAME:end -->` (docs/render/generated-docs.ts lists them).
 */

function markers(name: string): { readonly start: string; readonly end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

function markerPositions(document: string, name: string): { start: number; end: number } {
  const marker = markers(name);
  const start = document.indexOf(marker.start);
  const end = document.indexOf(marker.end);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`the document needs the markers ${marker.start} and ${marker.end}, in that order`);
  }
  return { start: start + marker.start.length, end };
}

/** The text between the markers of block `name`, without surrounding blank lines. */
export function readGeneratedBlock(document: string, name: string): string {
  const { start, end } = markerPositions(document, name);
  return document.slice(start, end).trim();
}

/** The document with the text between the markers of block `name` replaced by `text`. */
export function replaceGeneratedBlock(document: string, name: string, text: string): string {
  const { start, end } = markerPositions(document, name);
  return `${document.slice(0, start)}\n${text}\n${document.slice(end)}`;
}
