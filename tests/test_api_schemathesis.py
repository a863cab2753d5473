"""Schemathesis run against the signal API's own OpenAPI document, in process (no server).

Every operation gets up to 20 generated requests carrying a valid admin key (admin may call every endpoint);
each response must not be a 5xx and must match the status codes, content types and schemas the document
declares. Generated JSON never holds NaN or Infinity, so `test_non_finite_bodies` sends them to every operation
that takes a JSON body (each field in turn, and the whole body): all must answer 4xx, never 5xx.
The app runs on a temporary AITRADER_HOME holding SYNTHETIC test signals (never model output).
"""
import atexit, shutil, tempfile, time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from aitrader.api.app import create_app
from aitrader.api.keys import create_key
from aitrader.core.config import get_config
from aitrader.signals.store import SignalStore
from aitrader.testing import publish_synthetic, synthetic_signals

_home = tempfile.mkdtemp(prefix="aitrader-schemathesis-")
atexit.register(shutil.rmtree, _home, ignore_errors=True)
CFG = get_config({"AITRADER_HOME": _home})
for _d, _seed in [("2024-11-20", 1), ("2024-11-21", 2)]:
    publish_synthetic(CFG, _d, n=30, seed=_seed)          # synthetic test signals
ADMIN = {"X-API-Key": create_key("admin", "schemathesis", CFG)}


def _quick_job(job, params, cfg):
    "Fake runner: publishes synthetic test signals under the job's lock and `runs` row, no model."
    st = SignalStore(cfg)
    with st.run(job, "2024-11-22") as rid:
        st.publish_signals(rid, "2024-11-22", synthetic_signals("2024-11-22", 10, 3), drop_events=True)
    return {"run_id": rid}


APP = create_app(CFG, runner=_quick_job)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms(case):
    case.call_and_validate(headers=ADMIN, checks=CHECKS)


def _json_ops():
    "(method, path, field names) of every operation with a JSON request body."
    doc = TestClient(APP).get("/openapi.json").json()
    comps = doc.get("components", {}).get("schemas", {})
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            js = op.get("requestBody", {}).get("content", {}).get("application/json")
            if js is None: continue
            ref = js["schema"].get("$ref", "")
            props = comps.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}) if ref else js["schema"].get("properties", {})
            yield method.upper(), path, sorted(props)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_bodies(token):
    c, n = TestClient(APP), 0
    for method, path, fields in _json_ops():
        path = path.replace("{signal_id}", "2024-11-21:TEST000")
        bodies = [token.encode()] + [('{"%s": %s}' % (f, token)).encode() for f in fields]
        bodies += [('{"signal_id": "2024-11-21:TEST000", "%s": %s}' % (f, token)).encode() for f in fields if f != "signal_id"]
        for b in bodies:
            r = c.request(method, path, content=b, headers={**ADMIN, "content-type": "application/json"})
            assert r.status_code < 500, (method, path, b, r.status_code, r.text[:300])
            assert r.status_code in (400, 409, 422), (method, path, b, r.status_code)   # 409: a job already running
            n += 1
    assert n >= 20, n
    time.sleep(0.2)
