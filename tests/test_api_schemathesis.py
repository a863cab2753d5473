"""Schemathesis run against the signal API's own OpenAPI document, in process (no server).

Every operation gets up to 20 generated requests carrying a valid admin key (admin may call every endpoint);
each response must not be a 5xx and must match the status codes, content types and schemas the document
declares. The app runs on a temporary AITRADER_HOME holding SYNTHETIC test signals (never model output).
"""
import atexit, shutil, tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from aitrader.api.app import create_app, publish_synthetic
from aitrader.api.keys import create_key
from aitrader.config import get_config

_home = tempfile.mkdtemp(prefix="aitrader-schemathesis-")
atexit.register(shutil.rmtree, _home, ignore_errors=True)
CFG = get_config({"AITRADER_HOME": _home})
for _d, _seed in [("2024-11-20", 1), ("2024-11-21", 2)]:
    publish_synthetic(CFG, _d, n=30, seed=_seed)          # synthetic test signals
ADMIN = {"X-API-Key": create_key("admin", "schemathesis", CFG)}


def _quick_job(cfg, job, params):
    "Fake launcher: publishes synthetic test signals, no model."
    return {"run_id": publish_synthetic(cfg, "2024-11-22", n=10, seed=3)}


APP = create_app(CFG, launcher=_quick_job)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms(case):
    case.call_and_validate(headers=ADMIN, checks=CHECKS)
