"""#24 `/ui` sessions: the cookie holds a random server-side session id (never the API key), the store keeps only its
SHA-256, sign-out revokes it (the old cookie goes back to the sign-in page), an expired session is refused, and status
messages come from the server: a `?msg=` in a link is never shown. No data needed: a fresh home, no signals."""
import hashlib

import pytest
from fastapi.testclient import TestClient

from aitrader.api import keys as K
from aitrader.api.app import create_app
from aitrader.api.session import COOKIE, csrf_token, sign_in
from aitrader.core.config import get_config
from aitrader.storage.apistore import ApiStore

XSS = "<script>alert(1)</script>"


@pytest.fixture()
def site(tmp_path):
    cfg = get_config({"AITRADER_HOME": str(tmp_path)})
    key = K.create_key("admin", "session test", cfg)
    return cfg, create_app(cfg), key


def _rows(cfg):
    with ApiStore(cfg, schemas=("ui_sessions",)) as db:
        return db.all("SELECT sid_hash, key_id, expires_at, revoked_at FROM ui_sessions ORDER BY created_at")


def _fresh(app):
    return TestClient(app, base_url="https://testserver")


def test_cookie_is_a_random_session_id_stored_hashed(site):
    cfg, app, key = site
    c = _fresh(app)
    sign_in(c, key)
    sid = c.cookies.get(COOKIE)
    assert sid and key not in sid and K.parse_key(key)[1] not in sid and len(sid) >= 40
    (h, kid, exp, rev), = _rows(cfg)
    assert h == hashlib.sha256(sid.encode()).hexdigest() and h != sid and kid == K.parse_key(key)[0] and rev is None
    with ApiStore(cfg, schemas=("ui_sessions",)) as db:   # neither the id nor the key anywhere in the table
        dump = repr(db.all("SELECT * FROM ui_sessions"))
    assert sid not in dump and key not in dump
    c2 = _fresh(app)
    sign_in(c2, key)
    assert c2.cookies.get(COOKIE) != sid and len(_rows(cfg)) == 2   # one session per sign-in, random
    assert c.get("/ui/admin").status_code == 200
    bad = _fresh(app)
    bad.cookies.set(COOKIE, key, path="/ui")     # the old cookie format (the raw key) no longer signs in
    assert bad.get("/ui/admin", follow_redirects=False).headers["location"] == "/ui/login"


def test_sign_out_revokes_the_session(site):
    cfg, app, key = site
    c = _fresh(app)
    tok = sign_in(c, key)
    sid = c.cookies.get(COOKIE)
    r = c.post("/ui/logout", data={"csrf": tok}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert _rows(cfg)[0][3] is not None                      # revoked_at set
    old = _fresh(app)
    old.cookies.set(COOKIE, sid, path="/ui")                 # a copy of the cookie taken before sign-out
    r = old.get("/ui/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert old.post("/ui/admin/kill", data={"engaged": "true", "csrf": csrf_token(sid)},
                    follow_redirects=False).status_code == 303   # no write through a revoked session
    assert K.verify_key(key, cfg) is not None                # the key itself stays valid for the API


def test_expired_session_refused(site):
    cfg, app, key = site
    c = _fresh(app)
    sign_in(c, key)
    assert c.get("/ui/admin").status_code == 200
    with ApiStore(cfg, schemas=("ui_sessions",)) as db:
        db.con.execute("UPDATE ui_sessions SET expires_at = created_at - INTERVAL 1 MINUTE")
    r = c.get("/ui/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"


def test_revoked_key_ends_its_sessions(site):
    cfg, app, key = site
    c = _fresh(app)
    sign_in(c, key)
    K.revoke_key(K.parse_key(key)[0], cfg)
    assert c.get("/ui/admin", follow_redirects=False).status_code == 303


def test_status_messages_come_from_the_server_not_the_url(site):
    cfg, app, key = site
    c = _fresh(app)
    tok = sign_in(c, key)
    for page in ("/ui/admin", "/ui/elite", "/ui/desk"):
        r = c.get(f"{page}?msg={XSS}&msg_kind=ok")
        assert r.status_code == 200, (page, r.status_code)
        assert "alert(1)" not in r.text and 'id="msg"' not in r.text, page
    r = c.post("/ui/admin/kill", data={"engaged": "true", "reason": "session test", "csrf": tok},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/admin"   # no message in the link
    page = c.get("/ui/admin").text
    assert 'id="msg"' in page and "Kill switch engaged" in page            # stored for the session, shown once
    assert 'id="msg"' not in c.get("/ui/admin").text
    other = _fresh(app)
    sign_in(other, key)
    assert 'id="msg"' not in other.get("/ui/admin").text                  # another session never sees it
