"""The torture run's class rows (genexplorer/devtools/torture/classrows.py) against the class routes on a bare
FastAPI app with the shipped caps (the models replaced by test_classmode's FakeJudge): every row gets the status
and the message it should, and every cap holds. tests/test_torture.py sends the same rows to the real app."""
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from genexplorer.classmode import ClassRoom, ClassStore
from genexplorer.devtools.torture.classrows import (GETS, NOT_THE_TEACHER, POSTS, TEACHER_ROUTES, malformed_rows,
                                                    run_auth_rows, run_class_rows, token_rows,
                                                    waiting_rows)
from genexplorer.ui.class_routes import ROUTES, WAITING_ROUTES, add_class_routes
from test_classmode import FakeJudge


@pytest.fixture
def http(tmp_path):
    app = FastAPI()
    app.auth = app.auth_dependency = None     # as a Gradio app launched without --auth
    store = ClassStore(tmp_path)
    add_class_routes(app, ClassRoom(store, lambda dataset: FakeJudge()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    store.close()


def test_the_rows_cover_every_class_route():
    assert set(POSTS) | set(GETS) == set(ROUTES)
    covered = {row.route for row in malformed_rows() + token_rows()}
    assert covered == set(ROUTES)
    assert sum(row.status == 403 for row in token_rows()) == len(TEACHER_ROUTES) * len(NOT_THE_TEACHER) + 6
    assert {row.route for row in waiting_rows()} == set(WAITING_ROUTES)


def test_every_class_row_and_cap_gets_its_answer(http):
    results = run_class_rows(http)
    failed = [f"{r.outcome}: {r.name}: {r.detail}" for r in results if r.outcome in ("crash", "wrong")]
    assert not failed, "\n".join(failed)
    assert len(results) >= 150
    caps = {r.name: r.detail for r in results if r.endpoint == "class caps"}
    assert len(caps) == 3 and all(detail.startswith(("HTTP 429", "HTTP 409")) for detail in caps.values()), caps


def test_auth_rows_judge_a_401_as_a_clear_error_and_anything_else_as_wrong(http):
    """Without --auth the routes answer (a 4xx of their own), so every auth row is 'wrong': the check can fail."""
    results = run_auth_rows(http)
    assert len(results) == len(ROUTES) and all(r.outcome == "wrong" for r in results)
