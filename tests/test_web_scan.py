"""`/` leads to the dashboard; the scans over the API (JSON) and on /ui/scan (HTML, error pages) on real daily bars."""
import contextlib, io, re
import pytest
from fastapi.testclient import TestClient
from aitrader.api.app import create_app
from aitrader.api.keys import create_key
from aitrader.core.config import get_config
from aitrader.features.scans import SCANS


@pytest.fixture(scope="module")
def site(tmp_path_factory, data_dir):
    from aitrader.data.ingest import ingest
    cfg = get_config({"AITRADER_HOME": str(tmp_path_factory.mktemp("webscan")), "AITRADER_DATA_DIR": str(data_dir)})
    with contextlib.redirect_stderr(io.StringIO()):
        ingest(cfg, "csv", path=data_dir / "daily", timeframe="1d", symbols=["RELIANCE", "SBIN", "TCS", "ITC"])
        ingest(cfg, "csv", path=data_dir / "index" / "NIFTY_50_daily.csv", timeframe="1d")
    key = create_key("basic", "scan test", cfg)
    c = TestClient(create_app(cfg), base_url="https://testserver")
    return c, key


def _login(c, key):
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/ui/login").text).group(1)
    assert c.post("/ui/login", data={"key": key, "csrf": tok}, follow_redirects=False).status_code == 303


def test_root_redirects_to_dashboard(site):
    c, _ = site
    r = c.get("/", follow_redirects=False)
    assert r.status_code in (302, 303, 307) and r.headers["location"] == "/ui"
    assert c.get("/").url.path == "/ui/login"  # not signed in: /ui -> /ui/signals -> sign in


def test_scans_json(site):
    c, key = site
    H = {"X-API-Key": key}
    assert c.get("/scans").status_code == 401
    assert [s["name"] for s in c.get("/scans", headers=H).json()] == list(SCANS)
    r = c.get("/scans/volume_surge", params={"date": "2024-06-04"}, headers=H)
    assert r.status_code == 200 and r.json()["date"] == "2024-06-04"
    assert {"RELIANCE", "SBIN", "ITC"} <= {h["symbol"] for h in r.json()["hits"]}
    r = c.get("/scans/nope", headers=H)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json") and "unknown scan" in r.json()["detail"]
    for bad in ({"date": "2024-13-45"}, {"date": "01-07-2024"}, {"universe": "../../etc/passwd"}):
        r = c.get("/scans/nr7", params=bad, headers=H)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/json"), (bad, r.text)
    assert c.get("/scans/nr7", params={"date": "1990-01-02"}, headers=H).status_code == 404  # no bar by then


def test_scan_page(site):
    c, key = site
    assert c.get("/ui/scan", follow_redirects=False).status_code == 303  # sign in first
    _login(c, key)
    r = c.get("/ui/scan")
    assert r.status_code == 200 and r.text.count("/ui/scan?name=") == len(SCANS) and 'href="/ui/scan"' in r.text
    r = c.get("/ui/scan", params={"name": "volume_surge", "date": "2024-06-04"})
    assert r.status_code == 200 and 'id="hits"' in r.text and ">SBIN<" in r.text
    r = c.get("/ui/scan", params={"name": "nope"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and 'id="error"' in r.text
    assert '{"detail"' not in r.text
    r = c.get("/ui/scan", params={"name": "nr7", "date": "2024-13-45"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "YYYY-MM-DD" in r.text
