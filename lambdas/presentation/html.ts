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
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5;overflow-wrap:anywhere}
h1{font-size:1.45rem;line-height:1.25;margin:.5rem 0 .75rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
code{overflow-wrap:anywhere;word-break:break-word}
table{border-collapse:collapse;width:100%;table-layout:fixed}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top;overflow-wrap:anywhere}
th{width:11rem;color:#444;font-weight:600}
@media (max-width:32rem){th{width:7.5rem}th,td{padding:.3rem .35rem}}
button{font-size:1.05rem;padding:.65rem 1.4rem;margin:0 .5rem .5rem 0;cursor:pointer;border-radius:.4rem;border:2px solid transparent;font-weight:600}
.approve{background:#1a7f37;color:#fff}.reject{background:#fff;color:#b42318;border-color:#b42318}
textarea,input[type=text]{width:100%;font:inherit;padding:.4rem}textarea{min-height:3.2rem}
.notice{padding:.75rem 1rem;border-radius:.4rem;background:#f3f3f3}.error{background:#fbe9e9;border-left:4px solid #b42318}
details{margin:1rem 0}summary{cursor:pointer;font-weight:600}.required{color:#b42318;font-weight:600}
ul.decisions{padding-left:1.2rem}ul.decisions li{margin:.3rem 0}.muted{color:#555;font-size:.95rem}
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
