/** Text for one cell of a Markdown table: a `|` would end the cell. */
export function tableCell(text: string): string {
  return text.replaceAll('|', '\\|');
}
