"""Every page in headless Chromium, with the data a working day puts on it: no horizontal scrolling at
320 CSS px nor at 1280 px zoomed to 200 %, no serious or critical axe-core violation, a focus outline
with 3:1 contrast on everything the Tab key reaches, no Content-Security-Policy violation or script
error, and nothing fetched from outside the app (the pages work without internet). The demo cases run
the app as `make run` does out of the box: no credentials, every channel in demo mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.tokyo_time import JST
from fakes.fake_server import ThreadedServer
from notifier import post_ledger
from notifier.compose import prepare
from notifier.ledger_tables import Delivery
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, make_settings
from tests.kpi.conftest import seeded  # noqa: F401  (fixture: 60 days of follower figures)
from tests.notifier.conftest import post_data
from tests.page_checks import axe_violations, focus_problems, overflow, wait_until, watch
from tests.platform_fakes import CHANNEL_NAMES, FAST, Fakes

pytestmark = pytest.mark.browser

LONG_URL = (
    "https://www.city.suita.osaka.jp/kurashi/1018476/1018477/1018479/1018480/index.html?utm_source=line"
)


@pytest.fixture
def settings(db_url: str, fakes: Fakes, request: pytest.FixtureRequest) -> Settings:
    """Every channel configured against the fakes (the posts page lists them all); no worker, so the
    deliveries keep the states a test gives them. The demo cases: no credentials, demo mode, the
    in-app worker delivering to the app's own fakes."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and str(callspec.params.get("name", "")).startswith("demo"):
        return make_settings(db_url, demo_mode=True, run_worker_in_app=True, **FAST)
    return make_settings(db_url, **fakes.settings(), **FAST)


def seed_posts(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """An emergency post on every channel with one delivery of each kind, and a draft."""
    later = (utcnow() + dt.timedelta(days=1)).isoformat()
    post = post_data(
        title="【緊急】大雨による避難所の開設について(市内全域・千里丘地区・山田地区ほか)",
        body="本日 18 時から市内 12 か所で避難所を開設しました。" * 3,
        link=LONG_URL,
        topic="bousai",
        urgency="emergency",
        channels=list(CHANNEL_NAMES),
        scheduled_at=later,
    )
    with session_scope(sessions) as s:
        post_id = post_ledger.create_post(s, prepare(post, settings, utcnow()), author="kouhou").id
        post_ledger.create_post(
            s, prepare(post_data(scheduled_at=later), settings, utcnow()), author="kouhou", draft=True
        )
        outcomes = {
            "line": ("sent", "461230966842064897_a_very_long_request_id_from_the_platform", None),
            "x": ("unknown", None, "timeout after sending; not found in recent posts: " + LONG_URL),
            "facebook": (
                "failed",
                None,
                "(#200) The user hasn't authorized the application to perform this action",
            ),
        }
        for channel, (state, platform_id, error) in outcomes.items():
            s.execute(
                update(Delivery)
                .where(Delivery.post_id == post_id, Delivery.channel == channel)
                .values(state=state, platform_id=platform_id, error=error)
            )


def preview_a_post(page: Any) -> None:
    failed = page.locator("#posts li.state-failed")
    assert failed.get_by_role("button", name="再送する / Send again").count() == 1
    assert "null" not in failed.inner_text()
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("年末年始のごみ収集")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("収集日が変わります。" * 30)
    page.get_by_label("リンク / Link").fill(LONG_URL)
    page.get_by_role("button", name="プレビュー / Preview").click()
    page.locator('.preview-card[data-channel="x"]').wait_for()


def try_and_open_an_entry(page: Any) -> None:
    page.get_by_label("試す質問 / Question to try").fill("コンビニで住民票取れる？")
    page.get_by_role("button", name="試す / Try", exact=True).click()
    page.locator("#try-result .decision").wait_for()
    page.locator("#entries tbody tr").first.get_by_role("button").click()
    page.locator("#editor-section").wait_for()


def chat(page: Any) -> None:
    page.get_by_role("button", name="友だち追加 / Add friend").click()
    page.locator("#sim-quick button").first.wait_for(timeout=10_000)


def chart_loaded(page: Any) -> None:
    chart = page.locator(".kpi-chart img")
    wait_until(page, "img => img.complete && img.naturalWidth > 0", chart.element_handle())


def edit_a_draft(page: Any) -> None:
    """Edit the draft: every field in the form, a shorter text for X, its preview."""
    draft = page.locator("#posts tr", has=page.locator("td.state-draft"))
    draft.get_by_role("button", name="編集 / Edit").click()
    page.locator("#editing", has_text="編集中").wait_for()
    page.get_by_text("チャネル別の本文(任意)/ Text per channel (optional)").click()
    page.get_by_label("X 用の本文 / Text for X").fill("年末年始は収集日が変わります。")
    page.get_by_label("トピック / Topic").select_option("kosodate")
    page.locator("#audience", has_text="0 residents").wait_for()
    page.get_by_role("button", name="プレビュー / Preview").click()
    page.locator('.preview-card[data-channel="x"]').wait_for()


def month_view(page: Any) -> None:
    page.get_by_role("link", name="月 / Month").click()
    page.locator(".cal-month .cal-post").first.wait_for()


def import_a_bad_file(page: Any) -> None:
    page.locator("#kpi-file").set_input_files(
        files=[
            {
                "name": "history.csv",
                "mimeType": "text/csv",
                "buffer": b"date,channel,followers\n2024-01,myspace,5\n",
            }
        ]
    )
    page.get_by_role("button", name="取り込む / Import").click()
    page.locator("#kpi-import-result .problems li").wait_for()


def post_to_every_channel_and_see_it_on_demo(page: Any) -> None:
    """The done criterion: out of the box, an editor schedules one post to all five channels and sees
    it on /demo within a minute."""
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("防災訓練のお知らせ")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("11月3日に市内全域で防災訓練を行います。")
    checked = page.locator("input[name=channels]:checked")
    assert checked.count() == len(CHANNEL_NAMES)
    page.get_by_role("button", name="配信を予約 / Schedule").click()
    page.locator("#compose-result", has_text="に予約しました").wait_for()
    page.get_by_role("link", name="デモの配信先 / Demo deliveries").first.click()
    page.locator("#demo-feed li").nth(len(CHANNEL_NAMES) - 1).wait_for(timeout=60_000)
    shown = page.locator("#demo-feed").inner_text()
    assert shown.count("防災訓練のお知らせ") == len(CHANNEL_NAMES)
    assert page.locator(".line-bubble", has_text="防災訓練のお知らせ").count() == 1


@dataclass(frozen=True)
class Case:
    path: str | Callable[[], str]  # a callable: computed when the test runs (dates)
    staff: bool  # opened signed in as an editor
    ready: str  # shown once the page's data has arrived
    then: Callable[[Any], None] | None = None  # what a person does next, to check that state too


def tomorrow_week() -> str:
    tomorrow = (utcnow() + dt.timedelta(days=1)).astimezone(JST).date()
    return f"/posts/calendar?view=week&date={tomorrow}"


CASES = {
    "index": Case("/", True, "main h1"),
    "login": Case("/login", False, "#username"),
    "setup-used": Case("/setup?token=spent", False, "main h1"),
    "simulator": Case("/simulator", True, "#sim-form", chat),
    "posts": Case("/posts", True, "#posts tbody tr li.state-unknown", preview_a_post),
    "posts-edit": Case("/posts", True, "#posts tbody tr td.state-draft", edit_a_draft),
    "calendar-week": Case(tomorrow_week, True, ".cal-post"),
    "calendar-month": Case(tomorrow_week, True, ".cal-post", month_view),
    "kpi-empty": Case("/kpi", True, "#kpi-plan", import_a_bad_file),
    "demo-posts": Case("/posts", True, "#posts-empty", post_to_every_channel_and_see_it_on_demo),
    "faq": Case("/faq", True, "#unanswered tbody tr", try_and_open_an_entry),
    "kpi": Case("/kpi", True, "#kpi-monthly tbody tr", chart_loaded),
    "docs": Case("/docs", False, ".opblock-summary"),
    "redoc": Case("/redoc", False, "#redoc h1"),
}


def open_page(page: Any, server: ThreadedServer, case: Case, username: str) -> None:
    path = case.path() if callable(case.path) else case.path
    if case.staff:
        page.goto(f"{server.url}/login?{urlencode({'next': path})}")
        page.get_by_label("ユーザー名 / Username").fill(username)
        page.get_by_label("パスワード / Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="ログイン / Sign in").click()
        page.wait_for_url(f"{server.url}{path}")
    else:
        page.goto(f"{server.url}{path}")
    page.locator(case.ready).first.wait_for()
    if case.then is not None:
        case.then(page)


@pytest.mark.parametrize("name", CASES)
def test_page_reflows_is_accessible_and_keeps_to_the_csp(
    name: str,
    page: Any,
    live_server: ThreadedServer,
    staff_user: str,
    settings: Settings,
    sessions: sessionmaker[Session],
    request: pytest.FixtureRequest,
) -> None:
    case = CASES[name]
    if name.startswith(("posts", "calendar")):
        seed_posts(settings, sessions)
    if name == "kpi":
        request.getfixturevalue("seeded")
    if name == "faq":  # a resident's question the FAQ could not answer
        httpx.get(f"{live_server.url}/api/v1/faq/search", params={"q": "粗大ごみの出し方 電話 06-1234-5678"})
    seen = watch(page, live_server.url)
    open_page(page, live_server, case, staff_user)

    problems = overflow(page) + axe_violations(page) + focus_problems(page) + seen.problems()
    assert not problems, f"{name} {page.url}:\n" + "\n".join(problems)


def test_the_first_run_setup_page(page: Any, live_server: ThreadedServer, app: Any) -> None:
    """No staff account: the one-time link's form, then the first admin signed in."""
    seen = watch(page, live_server.url)
    page.goto(f"{live_server.url}/setup?token={app.state.setup_token}")
    page.locator("#password_again").wait_for()
    problems = overflow(page) + axe_violations(page) + focus_problems(page) + seen.problems()
    assert not problems, "\n".join(problems)
    page.get_by_label("ユーザー名 / Username").fill("kanri")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.get_by_label("パスワード(確認)/ Password again").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="管理者を作成 / Create admin").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("button", name="ログアウト / Sign out").is_visible()


@pytest.mark.usefixtures("seeded")
def test_the_chart_opened_on_its_own_keeps_its_styles(
    page: Any, live_server: ThreadedServer, staff_user: str
) -> None:
    """The SVG chart is a document when opened directly: its policy lets its inline styles apply."""
    seen = watch(page, live_server.url)
    open_page(page, live_server, CASES["kpi"], staff_user)
    page.goto(f"{live_server.url}/api/v1/kpi/chart.svg")
    page.locator("svg").wait_for()
    assert seen.problems() == []
    fill = page.evaluate("() => getComputedStyle(document.querySelector('#patch_1 path')).fill")
    assert fill == "rgb(255, 255, 255)"  # the white background, from a style= attribute
