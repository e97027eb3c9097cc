/** HTML building blocks for poolgate's pages and e-mails. Every value passes through `escapeHtml`. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value a page shows is printed as String() prints it
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A whole page; `extraCss` is appended to the shared style sheet. */
export function page(title: string, body: string, extraCss = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{width:12rem;color:#444;font-weight:600}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;cursor:pointer}
textarea{width:100%;min-height:4rem}.notice{padding:.75rem 1rem;border-radius:.4rem;background:#f3f3f3}
${extraCss}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

/** A two-column table of label/value rows; rows whose value is undefined are left out. */
export function factsTable(rows: ReadonlyArray<readonly [string, unknown]>): string {
  const cells = rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`);
  return `<table>\n${cells.join('\n')}\n</table>`;
}
