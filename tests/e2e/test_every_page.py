"""Issue #16's walk: every page at phone (360×740) and desktop (1366×900) size in both languages.

On each page: no horizontal scroll of the page (wide math, tables and code scroll in their own
box), at phone size no control under 44 px tall, no console error, no serious or critical axe-core violation (axe is vendored in
static/vendor/axe-core and loaded from our own origin, so the CSP allows it). In Chinese, no
English interface word outside the question content. Then the flows a reload used to break: a
reload mid-quiz and mid-mock finds the same state; and the installed app's offline page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BANK, Shots
from tests.live import LiveServer

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1366, "height": 900}}
QID = "soul-04-scaled-dot-product"  # has demos, display math and choices
AXE = "/static/vendor/axe-core/axe.min.js"

# English words that are not interface text even in the Chinese UI: names, code, units.
ALLOWED_EN = re.compile(
    r"^(Transformer|Quiz|API|English|FSRS|Anki|JSON|PyTorch|KaTeX|Space|Ctrl|Enter|Cmd|"
    r"[A-Z]+[a-z]*(?:[A-Z][a-z0-9]*)+|softmax|Q\d+|[A-Z]{1,5}\d*|[a-z_]+\(.*|.*\.py|\d.*|s|ms|"
    r"zh|en|seed|log|min|max)$"
)


def _urls(server: LiveServer) -> list[str]:
    """Every page a local-mode user can reach, with a quiz and an interview under way."""
    with httpx.Client(base_url=server.url, follow_redirects=False) as c:
        quiz_q = c.get("/quiz/start", params={"n": 2}).headers["location"]
        mock_q = c.get("/mock/start", params={"n": 2, "seconds": 300}).headers["location"]
        query = parse_qs(urlsplit(mock_q).query)
        query["i"] = ["1"]
        grade = c.get(
            "/mock/next", params={**query, "i": "1", "answer": "softmax 饱和"}
        ).headers.get("location", "")
        drills = c.get("/api/drills").json()
    pages = [
        "/",
        "/review",
        "/questions",
        "/questions?q=layernorm",
        f"/q/{QID}",
        f"/q/{QID}?picked=1",
        "/demos",
        "/demos/scaling-variance",
        "/drills",
        "/quiz",
        quiz_q,
        "/mock",
        mock_q,
        "/stats",
        "/settings",
        "/readiness",
        "/cards",
        f"/card/{QID}",
        "/cram",
        "/nope",
    ]
    if drills:
        pages.append(f"/drills/{drills[0]['id']}")
    if grade.startswith("/mock/grade"):
        pages.append(grade)
    ids = parse_qs(urlsplit(quiz_q).query)["ids"][0]
    pages += [f"/quiz/done?ids={ids}&a=0-x", f"/mock/done?ids={ids}&hits=1,0&spent=95"]
    return pages


@pytest.fixture(scope="module")
def urls(server: LiveServer) -> list[str]:
    return _urls(server)


def _context(browser, server, viewport: str, lang: str):
    ctx = browser.new_context(base_url=server.url, viewport=VIEWPORTS[viewport])
    ctx.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
    return ctx


@pytest.fixture
def errors() -> Iterator[list[str]]:
    errs: list[str] = []
    yield errs
    assert not errs, f"browser console errors: {errs}"


def _watch(page: Page, errs: list[str], where: list[str]) -> None:
    def console(m) -> None:
        # An error page's own 4xx status is logged by Chromium: expected there (see _settle).
        if m.type == "error":
            errs.append(f"{where[0]}: {m.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: errs.append(f"{where[0]}: {e}"))


def _settle(page: Page, errs: list[str], url: str) -> None:
    """Wait for the page's scripts; on an error page (404 for /nope, a member's /admin) drop
    the console line that only reports that status."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(700)  # charts, math and the code editor settle
    if page.locator("#error").count():
        errs[:] = [e for e in errs if not (e.startswith(f"{url}: ") and "status of 4" in e)]


def _axe(page: Page) -> list[str]:
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=AXE)
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.filter(v => ["serious", "critical"].includes(v.impact))
              .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3)
                .map(n => n.target.join(" ")).join(" | "));
        }"""
    )
    return found


def _small_targets(page: Page) -> list[str]:
    """Controls a thumb taps that are under 44 px tall (WCAG 2.5.5); links inside running text
    are exempt, as the guideline allows."""
    return page.evaluate(
        """() => {
          const sel = "button, .btn, nav a, summary, select, .lang a, .foot a, "
            + "input:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
            + "label:has(> input[type=checkbox]), label:has(> input[type=radio])";
          const out = [];
          for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            if (!r.width || !el.checkVisibility() || el.closest(".cm-editor, .hm")) continue;
            if (r.height < 43.5) {
              const what = (el.textContent || el.name || "").trim().slice(0, 30);
              out.push(`${el.tagName} "${what}" ${Math.round(r.height)}px`);
            }
          }
          return out;
        }"""
    )


def _overflow(page: Page) -> str | None:
    sw, iw = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if sw <= iw:
        return None
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
          .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    return f"scrollWidth {sw} > {iw}: {wide}"


def _english_ui(page: Page) -> list[str]:
    """Interface text in English on a Chinese page: a visible text (or a placeholder, label or
    title) with no Chinese in it and a word that is not a name, outside the content a question,
    demo or drill brings (which keeps its technical terms: "RoPE、ALiBi 和 …" is Chinese)."""
    texts = page.evaluate(
        """() => {
          const skip = "script,style,code,pre,.md,.md-inline,.prompt,.katex,.math,.result,"
            + ".demo-out,[lang=en],.qprompt,.invite-code,kbd,.hm,.tag,.cm-editor,.statement,"
            + "#mock-grade pre,.typed-echo,.quiz-results a,.qlist a,.soul-list a,canvas,"
            + "#error-problems,.demo-source,.sources,.scalars dd,.demo-form .fields,"
            + ".topic-card p.muted,.demo > p.muted,.demo-page h2 + ul,.drill details > summary,"
            + ".who a,.qlist td:first-child,h1.username,.keypoints li,ul.checks label";
          const out = [];
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const n = walk.currentNode, el = n.parentElement;
            if (!el || el.closest(skip) || !el.checkVisibility()) continue;
            out.push(n.textContent.trim());
          }
          // A demo parameter's name is code, its description (the title) is interface text.
          const skipAttr = skip.replace(".demo-form .fields,", "");
          for (const el of document.querySelectorAll("[placeholder],[aria-label],[title]")) {
            if (el.closest(skipAttr)) continue;
            for (const a of ["placeholder", "aria-label", "title"]) {
              if (el.getAttribute(a)) out.push(el.getAttribute(a));
            }
          }
          return out;
        }"""
    )
    han = re.compile(r"[\u4e00-\u9fff]")
    bad = []
    for text in texts:
        if not text or han.search(text) or re.fullmatch(r"[a-z][a-z0-9_]*", text):
            continue  # Chinese, or a parameter's name (code: d_k, n_heads)
        words = re.findall(r"[A-Za-z][A-Za-z'’-]+", text)
        if any(not ALLOWED_EN.match(w) for w in words):
            bad.append(text[:60])
    return sorted(set(bad))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_every_page_fits_runs_clean_and_passes_axe(
    browser, server, urls, errors, viewport, lang, request
):
    shots = Shots(request.node.name)
    ctx = _context(browser, server, viewport, lang)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    where = [""]
    _watch(page, errors, where)
    problems, english = [], {}
    for url in urls:
        where[0] = url
        page.goto(url)
        _settle(page, errors, url)
        if url == "/review":  # the revealed answer too, with the grade buttons
            page.keyboard.press("Space")
            # The grades come before the explanation: no scrolling past it to reach them.
            order = page.evaluate(
                """() => { const g = document.getElementById('grade-form'),
                    x = document.getElementById('explanation');
                  return g && x ? [g.getBoundingClientRect().top, x.getBoundingClientRect().top]
                    : null; }"""
            )
            if order is not None:
                assert order[0] < order[1], f"grades below the explanation at {viewport}"
        if (o := _overflow(page)) is not None:
            problems.append(f"{url}: {o}")
        if viewport == "phone":
            problems += [f"{url}: small tap target {x}" for x in _small_targets(page)]
        problems += [f"{url}: axe {v}" for v in _axe(page)]
        if lang == "zh" and (found := _english_ui(page)):
            english[url] = found
        shots(page, re.sub(r"\W+", "_", url)[:60] or "home")
    ctx.close()
    assert not problems, "\n".join(problems)
    assert not english, f"English interface text in the Chinese UI: {english}"


def _state(page: Page) -> tuple[str, str]:
    card = page.locator("#quiz-card, #mock-card").first
    return card.get_attribute("data-question"), page.url


def test_reload_mid_quiz_and_mid_mock_keeps_the_state(browser, server, errors, request):
    shots = Shots(request.node.name)
    ctx = _context(browser, server, "phone", "en")
    page = ctx.new_page()
    where = ["quiz"]
    _watch(page, errors, where)

    page.goto("/quiz/start?n=2")
    expect(page.locator("#quiz-check")).to_be_visible()
    page.locator("#quiz-form input[name='choice']").first.check()
    page.locator("#quiz-check").click()
    expect(page.locator("#quiz-verdict")).to_be_visible()
    before = (_state(page), page.locator("#quiz-verdict").inner_text())
    page.reload()
    expect(page.locator("#quiz-verdict")).to_have_text(before[1])
    assert _state(page) == before[0]
    page.go_back()  # the unanswered question, then forward to its feedback
    page.go_forward()
    expect(page.locator("#quiz-verdict")).to_have_text(before[1])
    shots(page, "quiz-after-reload")

    where[0] = "mock"
    page.goto("/mock/start?n=2&seconds=300")
    expect(page.locator("#mock-card")).to_be_visible()
    page.locator("#mock-answer").fill("Scaling keeps the logits' variance near one.")
    page.locator("#mock-next").click()
    expect(page.locator("#countdown")).to_be_visible()
    page.wait_for_function("() => /i=1/.test(location.search)")
    second = _state(page)
    page.locator("#mock-answer").fill("a draft")
    page.wait_for_timeout(1500)
    left = int(page.locator("#countdown").inner_text().rstrip("s"))
    page.reload()
    assert _state(page) == second  # the same question of the same interview, no 422
    expect(page.locator("#mock-answer")).to_have_value("a draft")  # the draft survives too
    after = int(page.locator("#countdown").inner_text().rstrip("s"))
    assert after <= left and left - after < 10  # the clock goes on, it does not restart
    page.go_back()
    expect(page.locator("#mock-card")).to_be_visible()  # Back: the first question, no error
    page.go_forward()
    page.locator("#mock-next").click()
    expect(page.locator("#mock-grade")).to_contain_text("variance near one")
    page.reload()
    expect(page.locator("#mock-grade")).to_contain_text("variance near one")
    shots(page, "mock-grade-after-reload")
    ctx.close()


def test_offline_page_when_the_server_is_unreachable(browser, server, errors, request):
    ctx = _context(browser, server, "phone", "zh")
    page = ctx.new_page()
    _watch(page, [], ["offline"])  # the failed fetches offline are expected
    page.goto("/")
    page.wait_for_function(
        "async () => !!(await navigator.serviceWorker.getRegistration())?.active"
    )
    page.reload()  # now controlled by the worker
    ctx.set_offline(True)
    page.goto("/questions")
    expect(page.locator("#offline")).to_contain_text("连不上服务器")
    Shots(request.node.name)(page, "offline")
    ctx.set_offline(False)
    ctx.close()


@pytest.fixture(scope="module")
def group_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The study-group deployment: accounts on, the first account the admin."""
    env = {
        "TQ_AUTH_ENABLED": "true",
        "TQ_SECRET_KEY": "e2e-walk-secret-0123456789-abcdefghijklmnop",
        "TQ_REGISTRATION": "open",
    }
    with LiveServer(tmp_path_factory.mktemp("group"), BANK, workers=1, env=env) as s:
        yield s


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_account_pages_fit_run_clean_and_pass_axe(
    browser, group_server, errors, viewport, lang, request
):
    shots = Shots(request.node.name)
    ctx = _context(browser, group_server, viewport, lang)
    page = ctx.new_page()
    where = [""]
    _watch(page, errors, where)
    problems, english = [], {}

    def check(url: str) -> None:
        where[0] = url
        page.goto(url)
        _settle(page, errors, url)
        if (o := _overflow(page)) is not None:
            problems.append(f"{url}: {o}")
        if viewport == "phone":
            problems.extend(f"{url}: small tap target {x}" for x in _small_targets(page))
        problems.extend(f"{url}: axe {v}" for v in _axe(page))
        if lang == "zh" and (found := _english_ui(page)):
            english[url] = found
        shots(page, url.strip("/") or "home")

    for url in ("/login", "/register"):
        check(url)
    name = f"walker{viewport}{lang}"
    page.goto("/register")
    page.locator("input[name='username']").fill(name)
    page.locator("input[name='password']").fill("correct horse battery staple 42")
    page.locator("form[action='/register'] button[type='submit']").click()
    page.wait_for_url(re.compile(r"/$|/\?"))
    for url in ("/account", "/group", "/admin", "/admin/nope"):
        check(url)
    ctx.close()
    assert not problems, "\n".join(problems)
    assert not english, f"English interface text in the Chinese UI: {english}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_question_fits_a_phone(browser, server, errors, lang):
    """Each question of the bank, answer and options' explanations shown, at 360 px: long
    formulas, tables and identifiers stay inside their own box."""
    with httpx.Client(base_url=server.url) as c:
        ids = [q["id"] for q in c.get("/api/questions").json()]
    ctx = _context(browser, server, "phone", lang)
    page = ctx.new_page()
    where = [""]
    _watch(page, errors, where)
    wide = []
    for qid in ids:
        where[0] = url = f"/q/{qid}?picked=0"
        page.goto(url)
        page.wait_for_load_state("load")
        page.wait_for_timeout(80)  # KaTeX
        if (o := _overflow(page)) is not None:
            wide.append(f"{url}: {o}")
    ctx.close()
    assert not wide, "\n".join(wide)
