"""Checks of a page open in headless Chromium (Playwright, sync API) that every page must pass:
no horizontal scrolling (WCAG 1.4.10 reflow), no serious or critical axe-core violation, a visible
focus indicator with 3:1 contrast, no Content-Security-Policy violation, no script error, and no
request leaving the app's own origin. Each check returns a list of readable problems (empty: passed).

axe-core is vendored for the tests only (`tests/vendor/axe-core/`) and evaluated through the DevTools
protocol, which the page's CSP does not govern; the app never serves it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def wait_until(page: Any, script: str, arg: Any = None, timeout: float = 30.0) -> Any:
    """Evaluate `script` (an expression, or a function of `arg`) until it is truthy, and return it.

    Instead of Playwright's `wait_for_function`: its polling evaluates the predicate with `eval`, which
    the pages' CSP (no 'unsafe-eval') blocks, so it fails whenever the first check is false (a slow or
    busy machine). `page.evaluate` goes through the DevTools protocol, which the CSP does not govern."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(script, arg)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for: {script}")
        page.wait_for_timeout(50)
    return value


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

# Widths of WCAG 1.4.10 in CSS px: 320, and a 1280 px window zoomed to 200 % (zoom doubles the size
# of a CSS px, so the layout is that of a 640 CSS px viewport).
REFLOW_WIDTHS = {"320 CSS px": (320, 640), "1280 px at 200 % zoom": (640, 400)}

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${where})`);
}, true);
"""

_OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const wide = [...document.body.querySelectorAll("*")]
    .map((e) => [e, e.getBoundingClientRect().right])
    .filter(([e, right]) => right > width + 0.5 && e.getClientRects().length)
    .sort((a, b) => b[1] - a[1]).slice(0, 5)
    .map(([e, right]) => `${name(e)} to ${Math.round(right)} px`);
  return `${document.documentElement.scrollWidth} px wide in ${width} px: ${wide.join(", ")}`;
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""

# What has focus now, and whether its outline is visible with 3:1 contrast against what surrounds it
# (the nearest ancestor with a background; the outline is drawn outside the element).
_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = [255, 255, 255];
  for (let a = e.parentElement; a; a = a.parentElement) {
    const c = rgb(getComputedStyle(a).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) { bg = c.slice(0, 3); break; }
  }
  const s = getComputedStyle(e);
  const text = (e.innerText || e.value || e.getAttribute("aria-label") || "").trim().slice(0, 30);
  const label = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ` "${text}"`;
  const width = parseFloat(s.outlineWidth);
  if (s.outlineStyle === "none" || !(width >= 2)) {
    return { label, problem: `no outline (${s.outlineStyle} ${s.outlineWidth})` };
  }
  const contrast = (color) => {
    const [l1, l2] = [lum(rgb(color)), lum(bg)].sort((a, b) => b - a);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  // a two-colour indicator (outline and a box-shadow ring) passes when either colour does
  const rings = s.boxShadow === "none" ? [] : s.boxShadow.match(/rgba?[(][^)]*[)]/g) || [];
  const ratio = Math.max(...[s.outlineColor, ...rings].map(contrast));
  const problem = `outline contrast ${ratio.toFixed(2)}:1 (${s.outlineColor} on rgb(${bg}))`;
  return { label, problem: ratio >= 3 ? null : problem };
}"""

# Tab goes on from the last element clicked or focused: start again from the top of the page.
_FROM_THE_TOP = """() => {
  document.body.setAttribute("tabindex", "-1");
  document.body.focus();
  document.body.removeAttribute("tabindex");
}"""


@dataclass
class Watch:
    """What happened in a page since `watch(page, origin)`: CSP violations, uncaught script errors,
    requests to anywhere but `origin` (aborted: the page must work without internet)."""

    page: Any
    console_csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        events: list[str] = self.page.evaluate("() => window.__cspViolations || []")
        return events + self.console_csp

    def problems(self) -> list[str]:
        return (
            [f"CSP: {v}" for v in self.csp_violations()]
            + [f"script error: {e}" for e in self.errors]
            + [f"request off the app's origin: {u}" for u in self.offsite]
        )


def watch(page: Any, origin: str) -> Watch:
    """Start watching `page` (before it opens anything); requests off `origin` are aborted."""
    seen = Watch(page)
    page.add_init_script(_CSP_LISTENER)

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            seen.console_csp.append(message.text)

    def on_request(route: Any) -> None:
        url: str = route.request.url
        if url.startswith(origin + "/"):
            route.continue_()
        else:
            seen.offsite.append(url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.route("**/*", on_request)
    return seen


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return [
        f"axe {v['impact']} {v['id']}: {v['help']} at {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING_IMPACTS
    ]


def overflow(page: Any) -> list[str]:
    """Horizontal scrolling at each reflow viewport, with the elements that stick out."""
    size = page.viewport_size
    problems = []
    for name, (width, height) in REFLOW_WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)
        wide = page.evaluate(_OVERFLOW)
        if wide:
            problems.append(f"horizontal scrolling at {name}: {wide}")
    page.set_viewport_size(size)
    return problems


def focus_problems(page: Any, max_tabs: int = 300) -> list[str]:
    """Tab through the page (up to `max_tabs` stops): every focused element needs a visible outline
    of at least 2 px with 3:1 contrast against its surroundings."""
    page.evaluate(_FROM_THE_TOP)
    problems: list[str] = []
    seen: set[str] = set()
    for stop in range(max_tabs):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUS)
        if state is None:
            return problems if stop else ["the Tab key reaches nothing"]
        if state["problem"] and state["label"] not in seen:
            seen.add(state["label"])
            problems.append(f"focus on {state['label']}: {state['problem']}")
    return problems
