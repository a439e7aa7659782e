"""The class bench (genexplorer/devtools/classbench.py, classkill.py): it paces its clients as the pages do, and
what it reports is computed right from what happened. `python -m genexplorer.bench --only class` runs it."""
from PIL import Image

from genexplorer.devtools import classbench
from genexplorer.devtools.classbench import ClassLog, class_table, memory_png, memory_table, summarize
from genexplorer.devtools.classroom import Record
from genexplorer.ui import classbar, classtab


def test_the_bench_asks_as_often_as_the_pages_do():
    assert classbench.STATE_WAIT_S == classbar.STATE_WAIT_S and classbench.BOARD_WAIT_S == classtab.BOARD_WAIT_S
    assert classbench.RETRY_S * 1000 == classbar.RETRY_MS
    assert classbench.BOARD_GAP_S * 1000 == classtab.BOARD_GAP_MS
    assert classbench.BOARD_POLL_S * 1000 == classtab.BOARD_POLL_MS
    assert classbench.MAP_MIN_S * 1000 == classtab.MAP_MIN_MS


def test_the_pushed_states_are_ones_the_app_takes():
    from genexplorer.classmode import check_follow_state

    for i in range(6):
        assert check_follow_state(classbench.follow_state(i)) == classbench.follow_state(i)


def test_the_summary_measures_from_pen_up_to_the_first_board_answer_and_push_to_each_student():
    log = ClassLog()
    log.pen_ups = {1: 10.0, 2: 11.0, 3: 12.0}
    log.on_board = {1: 10.4, 2: 12.5}                  # 3 was taken too late for a board answer
    log.acked = [(1, 10.2), (2, 11.3), (3, 19.9)]
    log.board_answers = [10.4, 12.5, 20.0]
    log.pushes = {1: 30.0, 2: 40.0}
    log.seen = {(0, 1): 30.3, (1, 1): 30.9, (0, 2): 40.2}   # student 1 never saw push 2
    log.records = [Record("class state", 0.01, True), Record("class state", 0.03, False, note="no answer")]
    result = summarize(log, students=2)
    assert result["board"]["n"] == 2 and result["board"]["taken"] == 3 and result["board"]["missing"] == 0
    assert round(result["board"]["p95"]) == 1500 and round(result["board"]["p50"]) == 950
    assert result["follow"]["n"] == 3 and result["follow"]["missed"] == 1 and round(result["follow"]["p95"]) == 900
    assert result["kinds"]["class state"]["wrong"] == 1
    log.board_answers.append(25.0)                     # now 3 was due and never shown
    assert summarize(log, students=2)["board"]["missing"] == 1
    table = class_table([("2 students", result)])
    assert "| 2 students | **pen-up -> on the teacher's board** | 2 of 3 drawings | 950 | 1500 | 1000 | 0 |" in table


def test_the_memory_curve_table_and_picture(tmp_path):
    samples = [(15.0 * i, 800 + (200 if i > 3 else 50 * i)) for i in range(130)]
    table = memory_table(samples)
    assert table.count("\n| ") == 12 and "| 32.2 | 1000 |" in table and "highest 1000 MB" in table
    memory_png(samples, tmp_path / "curve.png", "a test")
    assert Image.open(tmp_path / "curve.png").size == (720, 360)
