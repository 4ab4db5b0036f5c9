"""An automated accessibility check for the browser tests: the real axe-core (Deque's engine, shipped inside the
``axe-playwright-python`` wheel, so nothing is downloaded at run time) run in Chromium on the page as it is shown.

``assert_accessible(page, name)`` runs the WCAG 2.0/2.1 level A and AA rules and fails with one readable line per
failing element (rule, impact, selector, HTML, what is wrong). Other slices' browser tests call it on every page they
visit. Pages opened with JavaScript turned off are checked too: axe then runs in a JavaScript-enabled twin of the page
that is given the same HTML (and the same stylesheet, from the same server), so what is checked is exactly what the
no-JavaScript visitor got, without re-sending a form.

axe cannot judge a border's contrast (WCAG 1.4.11, non-text contrast): tests/browser/test_ui_polish.py computes that
from the stylesheet's custom properties.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_SCRIPT

# WCAG 2.1 AA: the level-A and level-AA rules of WCAG 2.0 and the ones 2.1 added.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


# Playwright still evaluates in a page whose context has JavaScript turned off, but timers never fire there, so axe
# (which waits on them) would hang. The HTML parser tells: with scripting on, <noscript> content is raw text.
SCRIPTING_ENABLED = """() => {
  const probe = document.createElement("div");
  probe.innerHTML = "<noscript><p></p></noscript>";
  return probe.querySelector("noscript p") === null;
}"""


def _javascript_enabled(page: Any) -> bool:
    return bool(page.evaluate(SCRIPTING_ENABLED))


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations on ``page`` (a Playwright sync Page), in axe's own JSON shape."""
    if _javascript_enabled(page):
        return _run_axe(page)
    # No JavaScript in this context: check the same HTML, served at the same URL (so relative links and the
    # stylesheet resolve), in a twin page of a JavaScript-enabled context with the same viewport and colour scheme.
    html = page.content()
    url = page.url
    viewport = page.viewport_size or {"width": 1280, "height": 900}
    twin_context = page.context.browser.new_context(viewport=viewport, base_url=url)
    try:
        twin = twin_context.new_page()
        twin.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        # app.js would change nothing axe looks at, but the no-JavaScript visitor never runs it.
        twin.route("**/*.js", lambda route: route.abort())
        twin.goto(url)
        return _run_axe(twin)
    finally:
        twin_context.close()


def _run_axe(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE_SCRIPT)
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node['html'][:200]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


def duplicate_ids(page: Any) -> list[str]:
    """Ids used more than once (WCAG 2.1's 4.1.1: a label or aria-describedby must point at one element). axe retired
    its duplicate-id rules in 4.7, so this is checked here."""
    ids: list[str] = page.locator("[id]").evaluate_all("elements => elements.map(e => e.id)")
    return sorted({i for i in ids if ids.count(i) > 1})


def assert_accessible(page: Any, name: str = "") -> None:
    """Fail with the list of WCAG 2.1 AA violations axe-core finds on ``page`` (``name`` says which page it was), and
    with any duplicate id."""
    where = name or page.url
    violations = axe_violations(page)
    problems = []
    if violations:
        count = sum(len(v["nodes"]) for v in violations)
        problems.append(f"{count} accessibility violation(s) (axe-core, WCAG 2.1 AA):\n{format_violations(violations)}")
    duplicated = duplicate_ids(page)
    if duplicated:
        problems.append(f"duplicate ids: {', '.join(duplicated)}")
    if problems:
        raise AssertionError(f"{where}: " + "\n".join(problems))
