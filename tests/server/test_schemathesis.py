"""schemathesis against the OpenAPI document of a running server: every operation, as nobody,
an artist and an admin, with valid and invalid data, answers no 500 and nothing its document
does not say. (Driven by hand: schemathesis' own pytest plugin does not run on this pytest.)"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import Api, Team

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure is reproducible
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("who", ["anonymous", "ada", "admin"])
def test_no_operation_answers_500_or_off_its_document(team: Team, who: str) -> None:
    caller: Api = getattr(team, who)
    if caller.token:
        caller.ok("POST", "/releases", json={"title": "Something", "genre": "Pop"})
    schema = schemathesis.openapi.from_url(f"{caller.base}/api/v1/openapi.json")
    schema.config.update(base_url=caller.base)
    headers = {"Authorization": f"Bearer {caller.token}"} if caller.token else {}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout" and caller.token:
            continue  # it would end the session the other operations are tried with
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)
            except Unsatisfiable:
                pass  # no parameter to make invalid (health, whoami, ...)
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
