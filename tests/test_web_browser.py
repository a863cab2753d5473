"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium (/usr/bin/chromium, never a
downloaded browser) against a uvicorn server on a fresh home.

Bars are the real NSE daily files of RELIANCE, TCS and INFY cut after 2024-11-21 (plus RELIANCE's 15-minute bars for
the 4H chart); signals are SYNTHETIC test data on those symbols. Screenshots go to tests/artifacts/screens (or
$AITRADER_SCREENS); they are test artifacts, git-ignored.
"""
import os, shutil, socket, threading, time
from pathlib import Path

import pandas as pd
import pytest

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.core.config import get_config
from aitrader.core.calendar import IST
from aitrader.data.ingest import ingest
from aitrader.data.window import read_window
from aitrader.desk.accounts import FundingPlan, Mandate, create_account
from aitrader.desk.funding import apply_funding
from aitrader.desk.cards import make_cards
from aitrader.signals.store import SignalStore
from aitrader.testing import ingest_real, publish_synthetic, synthetic_signals, with_real
from aitrader.track.live import track_live

CHROMIUM = os.environ.get("AITRADER_CHROMIUM", "/usr/bin/chromium")
SCREENS = Path(os.environ.get("AITRADER_SCREENS", Path(__file__).parent / "artifacts" / "screens"))
EVENING = pd.Timestamp("2024-11-21 18:00", tz=IST)
REAL = [("RELIANCE", "BUY", 1230.0), ("TCS", "BUY", 4100.0), ("INFY", "HOLD", float("nan"))]
SID = "2024-11-21:RELIANCE"

sync_api = pytest.importorskip("playwright.sync_api")


def publish_desk_ready(cfg, day, seed):
    "The synthetic rows of `day` with REAL's symbols, plus the horizon returns and ATR the desk's allocator needs (ATR14 from the real bars)."
    b = read_window(cfg, ["RELIANCE", "TCS"], pd.Timestamp(day) - pd.Timedelta(days=40), pd.Timestamp(day))
    rows = with_real(synthetic_signals(day, 8, seed), REAL)
    for s, g in b.groupby("symbol"):
        tr = pd.concat([g.high - g.low, (g.high - g.close.shift()).abs(), (g.low - g.close.shift()).abs()], axis=1).max(axis=1)
        rows.loc[rows.symbol == s, ["exp_ret_3d", "exp_ret_5d", "exp_ret_10d", "atr14", "vol_10d"]] = [0.006, 0.01, 0.015, float(tr.tail(14).mean()), 0.02]
    st = SignalStore(cfg)
    with st.run("daily", day) as rid: st.publish_signals(rid, day, rows, drop_events=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory, data_dir):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"): pytest.fail(f"{CHROMIUM} missing: .ci/run installs the Debian package chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    import uvicorn
    home = tmp_path_factory.mktemp("web")
    cfg = get_config({"AITRADER_HOME": str(home), "AITRADER_DATA_DIR": str(data_dir)})
    ingest_real(cfg, data_dir, ["RELIANCE", "TCS", "INFY"], last="2024-11-21")
    ingest(cfg, "csv", data_dir / "intraday_15m" / "RELIANCE_15min.csv", "15m", progress=False)
    for d, seed in [("2024-10-01", 3), ("2024-10-15", 4), ("2024-11-01", 5)]:   # earlier signals at the real closes
        px = read_window(cfg, ["RELIANCE", "TCS"], pd.Timestamp(d) - pd.Timedelta(days=10), pd.Timestamp(d)).groupby("symbol").close.last()
        publish_synthetic(cfg, d, n=4, seed=seed, real=[("RELIANCE", "BUY", float(px["RELIANCE"])), ("TCS", "BUY", float(px["TCS"]))])
    publish_synthetic(cfg, "2024-11-20", n=8, seed=1, real=REAL)
    publish_desk_ready(cfg, "2024-11-21", seed=2)
    track_live(cfg, through="2024-11-21")                                      # the tracker: outcomes for the track record page
    create_account(cfg, "Growth", "LUMP_SUM", Mandate(objective="MAX_PROFIT"), FundingPlan("LUMP_SUM", "2024-10-01", lump_amount=1e6,
                   tranches=[1.0]), "tester", account_id="growth")
    apply_funding(cfg, "growth", "2024-10-01")
    make_cards(cfg, "2024-11-21")                                              # the desk's approval queue
    keys = {t: K.create_key(t, f"browser {t}", cfg) for t in K.TIERS}
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg, clock=lambda: EVENING), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True); th.start()
    t_end = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < t_end, "uvicorn did not start"
        time.sleep(0.1)
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield f"http://127.0.0.1:{port}", keys, browser
        browser.close()
    server.should_exit = True; th.join(10)


def _login(browser, base, key, **ctx):
    page = browser.new_context(**ctx).new_page()
    page.goto(f"{base}/ui/login")
    page.fill("input[name=key]", key)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/ui/signals")
    return page


def _until(page, expr, timeout=60):
    "Poll a JavaScript expression until truthy (page.evaluate: the strict CSP forbids wait_for_function's eval)."
    t_end = time.monotonic() + timeout
    while not page.evaluate(expr):
        assert time.monotonic() < t_end, f"timed out waiting for {expr}"
        time.sleep(0.1)


def _shot(page, name):
    p = SCREENS / f"{name}.png"; page.screenshot(path=str(p), full_page=True); print(f"screenshot: {p}")
    return p


def test_each_tier_sees_its_own(site):
    base, keys, browser = site
    seen = {}
    for tier in K.TIERS:
        page = _login(browser, base, keys[tier])
        heads = page.locator("#signals th").all_inner_texts()
        nav = page.locator("header a").all_inner_texts()
        seen[tier] = (page.inner_text("#as-of"), "stop_loss" in heads, "status" in heads, "Admin" in nav, "Execution" in nav)
        if tier == "elite": _shot(page, "signals_elite")
        page.context.close()
    assert seen == {"basic": ("2024-11-20", False, False, False, False), "pro": ("2024-11-21", True, False, False, False),
                    "elite": ("2024-11-21", True, True, False, True), "admin": ("2024-11-21", True, True, True, True)}
    page = _login(browser, base, keys["pro"], viewport={"width": 390, "height": 844}, is_mobile=True)   # a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 400   # the table scrolls inside its card
    _shot(page, "signals_phone"); page.context.close()
    bad = browser.new_context().new_page(); bad.goto(f"{base}/ui/login")
    bad.fill("input[name=key]", "ait_00000000_" + "x" * 30); bad.click("button:has-text('Sign in')")
    assert "Unknown or revoked key" in bad.inner_text("#msg"); bad.context.close()


def test_signal_detail_chart_draws_the_levels(site):
    base, keys, browser = site
    page = _login(browser, base, keys["pro"], viewport={"width": 1200, "height": 900})
    page.click(f"a[href='/ui/signals/{SID}']")
    _until(page, "window.aitraderChart && window.aitraderChart.ready")
    c = page.evaluate("window.aitraderChart")
    assert c["levels"] == ["entry", "stop", "target"] and c["tf"] == "1d" and c["bars"] > 150
    assert page.locator("#chart canvas").count() > 0
    assert "entry 1,230.00" in page.inner_text("#levels") and "synthetic test data" in page.inner_text("#reasons")
    time.sleep(0.5)                                                             # the price scale is drawn on the next frame
    sc, lv = page.evaluate("window.aitraderScale()"), page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).levels")
    assert all(sc["bottom"] <= l["price"] <= sc["top"] for l in lv), (sc, lv)  # the price scale contains entry, stop and target
    zones = page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).charts['1d'].zones")
    boxes = page.evaluate("window.aitraderBoxes")                              # SMC zones are drawn as filled boxes
    print(f"1d zones {len(zones)}, boxes drawn {len(boxes)}")
    assert sorted((b["top"], b["bottom"]) for b in boxes) == sorted((z["top"], z["bottom"]) for z in zones if z["points"])
    assert all(b["w"] >= 0 and b["h"] > 0 for b in boxes), boxes              # top above bottom, left to right
    _shot(page, "signal_detail_1d")
    page.click(".tabs button[data-tf='4h']")
    _until(page, "window.aitraderChart.tf === '4h'")
    assert page.evaluate("window.aitraderChart")["levels"] == ["entry", "stop", "target"]
    _shot(page, "signal_detail_4h"); page.context.close()


def test_kill_switch_from_admin_page_refuses_elite_execution(site):
    base, keys, browser = site
    elite = _login(browser, base, keys["elite"])
    elite.goto(f"{base}/ui/elite"); elite.click("#auto-toggle")
    assert elite.inner_text("#auto-state") == "on"
    elite.goto(f"{base}/ui/signals/{SID}"); elite.click("#execute button")
    assert "accepted: PENDING" in elite.inner_text("#msg")
    admin = _login(browser, base, keys["admin"])
    admin.goto(f"{base}/ui/admin"); admin.fill("#kill-form input[name=reason]", "browser test"); admin.click("#kill-button")
    assert admin.inner_text("#kill-state") == "ENGAGED" and "1 pending order(s) cancelled" in admin.inner_text("#msg")
    _shot(admin, "admin_kill_engaged")
    elite.goto(f"{base}/ui/signals/{SID}"); elite.click("#execute button")
    assert "Refused (kill_switch)" in elite.inner_text("#msg")
    _shot(elite, "elite_execution_refused")
    elite.goto(f"{base}/ui/elite")
    assert "CANCELLED" in elite.inner_text("#orders") and "ENGAGED" in elite.inner_text("main")
    _shot(elite, "elite_orders")
    admin.click("#kill-button")   # release
    assert admin.inner_text("#kill-state") == "released"
    for p in (elite, admin): p.context.close()


def test_track_record_page_and_signal_outcome(site):
    base, keys, browser = site
    pro = _login(browser, base, keys["pro"])
    pro.click("header a:has-text('Track record')"); pro.wait_for_url("**/ui/track")
    heads = pro.locator("#record th").all_inner_texts()
    assert {"model_version", "source", "direction", "regime", "hit rate [95% CI]", "avg R [95% CI]"} <= set(heads), heads
    assert pro.locator("#record tr").count() >= 2 and pro.locator("#equity-data").count() == 0    # pro: no equity curve
    pro.context.close()
    admin = _login(browser, base, keys["admin"], viewport={"width": 1200, "height": 900})
    admin.goto(f"{base}/ui/track")
    _until(admin, "window.aitraderEquity && window.aitraderEquity.ready")
    assert admin.evaluate("window.aitraderEquity.points") >= 1 and admin.locator("#equity canvas").count() > 0
    _shot(admin, "track_record")
    admin.goto(f"{base}/ui/signals/2024-10-01:RELIANCE")                       # a followed signal: its outcome is shown
    out = admin.inner_text("#outcome")
    assert "Not known yet" not in out and "net_return" in out and "through" in out, out
    _shot(admin, "signal_outcome"); admin.context.close()


def test_desk_queue_approve_from_the_browser(site):
    base, keys, browser = site
    pro = _login(browser, base, keys["pro"])
    assert "Desk approvals" not in pro.locator("header").inner_text()
    pro.goto(f"{base}/ui/desk"); assert "needs the admin tier" in pro.content(); pro.context.close()
    admin = _login(browser, base, keys["admin"], viewport={"width": 1200, "height": 1000})
    admin.click("header a:has-text('Desk approvals')"); admin.wait_for_url("**/ui/desk")
    cards = admin.locator("#account-growth .pending")
    n = cards.count()
    assert n >= 1 and admin.inner_text("#session-day") == "2024-11-21"
    first = cards.first; cid = first.get_attribute("id")
    assert "Buy " in first.locator(".thesis").inner_text() and first.locator(".checklist li").count() == 6
    _shot(admin, "desk_queue")
    with admin.expect_navigation(url="**/ui/desk"):                              # the message is kept by the server,
        first.locator("form.approve button").click()                            # not put in the link
    assert admin.inner_text("#msg").startswith("Approved"), admin.inner_text("#msg")
    assert admin.locator("#account-growth .pending").count() == n - 1
    row = admin.locator("#decided tr", has_text=cid).locator("td").all_inner_texts()
    assert row[3] == "APPROVED" and row[5].strip(), row                          # approved, with its bracket on the paper broker
    _shot(admin, "desk_approved")
    if n > 1:                                                                   # a rejection needs a reason (the form requires one)
        nxt = admin.locator("#account-growth .pending").first
        nxt.locator("form.reject input[name=reason]").fill("browser test: too close to results")
        with admin.expect_navigation(url="**/ui/desk"):
            nxt.locator("form.reject button").click()
        assert admin.inner_text("#msg").startswith("Rejected")
    admin.context.close()


def test_every_page_screenshot(site):
    "One screenshot per page (signals, detail 1d/4h, performance, track, scan, desk, admin, an error page) under SCREENS."
    base, keys, browser = site
    page = _login(browser, base, keys["admin"], viewport={"width": 1200, "height": 900})
    shots = [_shot(page, "page_signals")]
    page.goto(f"{base}/ui/signals/{SID}"); _until(page, "window.aitraderChart && window.aitraderChart.ready")
    shots.append(_shot(page, "page_detail_1d"))
    page.click(".tabs button[data-tf='4h']"); _until(page, "window.aitraderChart.tf === '4h'")
    shots.append(_shot(page, "page_detail_4h"))
    page.goto(f"{base}/ui/performance"); _until(page, "window.aitraderPerf && window.aitraderPerf.ready")
    drawn = page.evaluate("window.aitraderPerf.series")
    assert {"buy_hold", "nifty50"} <= set(drawn), drawn                       # benchmarks on the same chart
    assert "no measured skill" in page.inner_text("#skill") or "No champion" in page.inner_text("#skill")
    assert "hit rate [95% CI]" in page.inner_text("main") and "never counted as shorts" in page.inner_text("main")
    shots.append(_shot(page, "page_performance"))
    for path, name in [("/ui/track", "page_track"), ("/ui/scan", "page_scan"), ("/ui/desk", "page_desk"), ("/ui/admin", "page_admin")]:
        page.goto(base + path); shots.append(_shot(page, name))
    r = page.goto(f"{base}/ui/signals/2024-11-21:NOSUCH")                     # an error page: HTML, not raw JSON
    assert r.status == 404 and "text/html" in r.headers["content-type"] and page.locator("#error").count() == 1
    shots.append(_shot(page, "page_error_404"))
    assert all(p.stat().st_size > 1000 for p in shots)
    page.context.close()
