"""The sign-in form's CSRF token (double-submit cookie): a cross-site form post cannot sign a browser in with the
attacker's key (login CSRF), while a real browser's GET-then-POST works. No data needed: a fresh home."""
import re

from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.api.session import COOKIE, LOGIN_CSRF
from aitrader.core.config import get_config


def _token(html: str) -> str: return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_login_needs_the_form_token(tmp_path):
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    key = K.create_key("pro", "login test", cfg)
    app = create_app(cfg)
    evil = TestClient(app, base_url="https://testserver")                        # another site's form: no cookie, no token
    r = evil.post("/ui/login", data={"key": key}, follow_redirects=False)
    assert r.status_code == 403 and COOKIE not in r.headers.get("set-cookie", "")
    tok = _token(TestClient(app, base_url="https://testserver").get("/ui/login").text)   # a token from some other browser's form
    r = evil.post("/ui/login", data={"key": key, "csrf": tok}, follow_redirects=False)
    assert r.status_code == 403 and "Bad or missing sign-in form token" in r.text
    c = TestClient(app, base_url="https://testserver")
    page = c.get("/ui/login")
    assert "aitrader keys create --tier basic" in page.text                     # the page says how to get a key
    set_cookie = page.headers["set-cookie"]
    assert LOGIN_CSRF in set_cookie and "HttpOnly" in set_cookie and "samesite=strict" in set_cookie.lower() and "Path=/ui/login" in set_cookie
    assert c.post("/ui/login", data={"key": key, "csrf": "x" * 32}, follow_redirects=False).status_code == 403   # a wrong token
    r = c.post("/ui/login", data={"key": key, "csrf": _token(c.get("/ui/login").text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/signals" and COOKIE in r.headers["set-cookie"]
    assert c.get("/ui/signals").status_code == 200
    r = c.post("/ui/login", data={"key": "ait_00000000_" + "x" * 30, "csrf": _token(c.get("/ui/login").text)}, follow_redirects=False)
    assert r.status_code == 401                                                  # with a good token, a bad key is still refused
