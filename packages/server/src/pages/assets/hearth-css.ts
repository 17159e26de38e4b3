// /assets/hearth.css: the one stylesheet of the server-rendered pages. System fonts only, light and
// dark schemes, visible focus, nothing fetched from elsewhere.

export const HEARTH_CSS = `:root {
  color-scheme: light dark;
  --bg: #f4f1ec;
  --card: #ffffff;
  --text: #1f1d1a;
  --muted: #5f5a52;
  --line: #d9d3c9;
  --accent: #b4441d;
  --accent-text: #ffffff;
  --danger-bg: #fdecea;
  --danger: #a4161a;
  --focus: #1f6feb;
  --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #171513;
    --card: #221f1c;
    --text: #f1ede6;
    --muted: #b3ab9f;
    --line: #3b3631;
    --accent: #e0713f;
    --accent-text: #1a0f09;
    --danger-bg: #3a1714;
    --danger: #ff9b8f;
    --focus: #79b8ff;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  background: var(--bg);
  color: var(--text);
  min-height: 100vh;
  display: flex;
  flex-direction: column;
}
.skip-link {
  position: absolute;
  left: -9999px;
}
.skip-link:focus { left: 1rem; top: 1rem; background: var(--card); padding: .5rem 1rem; z-index: 1; }
header.site {
  padding: 1.25rem 1.5rem;
  display: flex;
  align-items: center;
  gap: .6rem;
  color: var(--muted);
  font-size: .95rem;
}
header.site .mark {
  width: 1.6rem;
  height: 1.6rem;
  border-radius: 50%;
  background: var(--accent);
  display: inline-block;
}
header.site .instance { font-weight: 600; color: var(--text); overflow-wrap: anywhere; }
main {
  flex: 1;
  display: flex;
  align-items: flex-start;
  justify-content: center;
  padding: 1rem 1rem 3rem;
}
.card {
  width: 100%;
  max-width: 26rem;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  padding: 2rem 1.75rem;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .04), 0 8px 24px rgba(0, 0, 0, .06);
}
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
p { margin: 0 0 1rem; }
.muted, .help { color: var(--muted); font-size: .9rem; }
.help { margin: .3rem 0 0; }
form { margin: 0; }
.field { margin: 0 0 1.1rem; }
.field label { display: block; font-weight: 600; margin-bottom: .35rem; }
input[type=password], input[type=text], input[type=email] {
  width: 100%;
  font: inherit;
  color: inherit;
  background: transparent;
  padding: .65rem .75rem;
  border: 1px solid var(--line);
  border-radius: 8px;
}
input.code { letter-spacing: .35em; font-variant-numeric: tabular-nums; font-size: 1.25rem; }
input[aria-invalid=true] { border-color: var(--danger); }
.check { display: flex; gap: .55rem; align-items: flex-start; margin: 0 0 1.1rem; }
.check input { margin-top: .3rem; width: 1.05rem; height: 1.05rem; }
.check label { font-weight: 400; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1.25rem; }
button, .button {
  font: inherit;
  font-weight: 600;
  border-radius: 8px;
  padding: .65rem 1.2rem;
  border: 1px solid var(--accent);
  background: var(--accent);
  color: var(--accent-text);
  cursor: pointer;
  text-decoration: none;
  display: inline-block;
  text-align: center;
}
button.secondary, .button.secondary { background: transparent; color: var(--text); border-color: var(--line); }
button:disabled { opacity: .6; cursor: progress; }
.block { width: 100%; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.error {
  background: var(--danger-bg);
  color: var(--danger);
  border-radius: 8px;
  padding: .65rem .8rem;
  margin: 0 0 1rem;
}
.error:empty { display: none; }
.notice { border-left: 4px solid var(--accent); padding: .35rem 0 .35rem .8rem; margin: 0 0 1rem; }
.scopes { list-style: none; padding: 0; margin: 0 0 1rem; border: 1px solid var(--line); border-radius: 8px; }
.scopes li { padding: .55rem .75rem; border-top: 1px solid var(--line); display: flex; justify-content: space-between; gap: 1rem; }
.scopes li:first-child { border-top: 0; }
.scopes code { overflow-wrap: anywhere; }
.scopes .access { color: var(--muted); white-space: nowrap; font-size: .9rem; }
.status { font-size: .85rem; color: var(--muted); text-transform: uppercase; letter-spacing: .08em; margin: 0 0 .35rem; }
.links { margin: 1.25rem 0 0; padding: 0; list-style: none; }
.links li { margin: .4rem 0; }
hr { border: 0; border-top: 1px solid var(--line); margin: 1.5rem 0; }
footer.site { text-align: center; padding: 1rem; color: var(--muted); font-size: .8rem; }
noscript p { background: var(--danger-bg); color: var(--danger); padding: .65rem .8rem; border-radius: 8px; }
.visually-hidden {
  position: absolute !important;
  width: 1px; height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
`;
