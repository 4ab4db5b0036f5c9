"""Property-based API testing with Schemathesis against the real server on PostgreSQL (two workers).

Every operation in ``/api/openapi.json`` is called with generated inputs as a signed-in user (Bearer header), plus
stateful sequences following the links between operations; each response must not be a 5xx, must match its declared
schema and must use a status code the schema declares. ``POST /auth/logout`` revokes the token the rest relies on, so
it is left out of those runs and tested on its own. Examples are bounded so the suite stays within a few minutes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from expense_tracker.constants import OPENAPI_PATH
from tests.conftest import run_in_thread
from tests.servers import serve

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LOGOUT = ("POST", "/auth/logout")
EXAMPLES_PER_OPERATION = 50
STATEFUL_EXAMPLES = 15
STATEFUL_ROUNDS = 3


class Live:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        # Logout revokes the token every other call uses: it is tested on its own (test_logout_on_its_own).
        self.full_schema = schemathesis.openapi.from_url(f"{base}{OPENAPI_PATH}")
        self.schema = self.full_schema.exclude(method="POST", path="/auth/logout")


def dev_login(base: str, email: str) -> str:
    response = httpx.post(f"{base}/auth/dev-login", json={"email": email, "name": "Fuzz"}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def live(database_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    url = run_in_thread(database_factory("postgresql"))
    workdir = tmp_path_factory.mktemp("schemathesis")
    (workdir / "metrics").mkdir()
    process: subprocess.Popen[bytes]
    process, base = serve(url, workdir / "server.log", "--wc", "2", PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"))
    try:
        yield Live(base, dev_login(base, "fuzz@example.com"))
    finally:
        process.terminate()
        process.wait(timeout=30)


def operations(live: Live) -> list[Any]:
    return [result.ok() for result in live.schema.get_all_operations()]


def test_the_schema_covers_the_api(live: Live) -> None:
    paths = {(op.method.upper(), op.path) for op in operations(live)}
    assert ("POST", "/api/expenses") in paths
    assert ("DELETE", "/api/categories/{category_id}") in paths
    assert len(paths) >= 20, sorted(paths)
    assert LOGOUT not in paths


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_with_generated_inputs(live: Live, mode: GenerationMode) -> None:
    """Positive: inputs valid by the schema. Negative: inputs violating it, which must be refused with a 4xx."""
    failures: list[str] = []
    for operation in operations(live):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # reproducible in CI; the seed is the operation
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # Never follow a redirect: the OAuth operations would lead off this machine.
            response = case.call(base_url=live.base, headers=live.headers, timeout=30, allow_redirects=False)
            case.validate_response(response, checks=CHECKS, headers=live.headers)

        try:
            run()
        except Unsatisfiable:
            # Negative mode on an operation without parameters or body (health probes): nothing can be made invalid.
            assert mode == GenerationMode.NEGATIVE, operation.path
        except Exception as exc:  # collected, so that one run reports every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_stateful_sequences(live: Live) -> None:
    base, headers = live.base, live.headers

    class Workflow(live.schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base, "headers": headers, "timeout": 30, "allow_redirects": False}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=headers)

    # Transitions come from the links in the schema; without them the "stateful" run would silently test nothing.
    assert any(t.outgoing for t in Workflow._transitions.operations.values()), "no links between operations"
    state_settings = settings(
        max_examples=STATEFUL_EXAMPLES,
        stateful_step_count=6,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no replay: the server's state moved on, a replayed sequence cannot repeat
        suppress_health_check=list(HealthCheck),
    )
    completed = 0
    for _ in range(STATEFUL_ROUNDS):
        try:
            run_state_machine_as_test(Workflow, settings=state_settings)
        except Flaky as exc:
            # Rules depend on earlier responses, so Hypothesis may see a sequence branch differently the second time
            # (Schemathesis' own runner restarts in that case too). A real failure found on the way still fails.
            if isinstance(exc, BaseExceptionGroup) and exc.subgroup(FailureGroup) is not None:
                raise
        else:
            completed += 1
    assert completed, f"none of {STATEFUL_ROUNDS} stateful rounds ran to completion"


def test_logout_on_its_own(live: Live) -> None:
    token = dev_login(live.base, "leaving@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    operation = live.full_schema["/auth/logout"]["POST"]
    case = operation.Case()
    response = case.call(base_url=live.base, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert response.status_code == 204
    again = case.call(base_url=live.base, headers=headers, timeout=30)
    case.validate_response(again, checks=CHECKS, headers=headers)
    assert again.status_code == 401
    assert httpx.get(f"{live.base}/api/me", headers=headers).status_code == 401
