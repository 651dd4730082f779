"""Smoke test of the benchmark suite: it runs end to end in --quick mode and writes its report.

No timing is asserted here (timings belong in benchmarks/RESULTS.md, not in a unit
test); what is checked is that every section runs, that the contenders compared
really compute the same thing, and that the report has its structure.
"""

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

SECTIONS = ["## Targets", "## Machine", "## 1. numpy matrix multiply", "## 2. Training step",
            "## 3. Per-sample loop", "## 4. Digits", "## 5. Notebook suite", "## 6. Widget callbacks",
            "## 7. float32 end to end"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    run = importlib.import_module("run")
    out = tmp_path_factory.mktemp("bench")
    res = run.main(["--quick", "--out", str(out), "--no-torch", "--no-widgets"])
    return run, out, res


def test_quick_run_writes_report_json_and_plot(quick_run):
    _, out, _ = quick_run
    text = (out / "RESULTS.md").read_text()
    positions = [text.find(s) for s in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert "quick mode" in text
    assert (out / "step_peak_fraction.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "results.json").read_text())
    assert {"meta", "settings", "gemm", "mlp", "per_sample", "digits", "float32_audit"} <= set(data)
    assert set(data["mlp"]["1"]["float32"]) == {"1", "32"}


def test_every_timed_contender_is_reported_with_a_spread(quick_run):
    _, _, res = quick_run
    for per_batch in res["mlp"][1].values():
        for m in per_batch.values():
            assert set(m["times"]) == {"nnlib", "numpy"}  # PyTorch left out by --no-torch
            for s in m["times"].values():
                assert s.n == 2 and s.low <= s.median <= s.high
            assert set(m["ratios"]) == {"nnlib/numpy"}


def test_contenders_do_the_same_work(quick_run):
    _, _, res = quick_run
    for per_batch in res["mlp"][1].values():
        for m in per_batch.values():
            first = m["first_loss"]
            assert first["nnlib"] == pytest.approx(first["numpy"], rel=1e-4)
    # same initial weights and batch order: the numpy reference predicts exactly like nnlib
    dig = res["digits"]["float64"]
    assert dig["nnlib"]["accuracy"] == dig["numpy"]["accuracy"]
    assert res["per_sample"]["float64"]["max_rel_diff"] < 1e-12
    assert res["per_sample"]["float32"]["max_rel_diff"] < 1e-4


def test_float32_model_never_upcasts(quick_run):
    _, _, res = quick_run
    audit = res["float32_audit"]
    assert len(audit) >= 10
    assert {k: v for k, v in audit.items() if v != "float32"} == {}


def test_render_only_rebuilds_the_same_report_from_json(quick_run):
    run, out, _ = quick_run
    before = (out / "RESULTS.md").read_text()
    run.main(["--render-only", "--out", str(out)])
    assert (out / "RESULTS.md").read_text() == before


def test_widget_latency_moves_only_observed_controls():
    import ipywidgets as w

    wl = importlib.import_module("widget_latency")
    calls = []
    slider = w.IntSlider(value=3, min=0, max=9, description="n")
    menu = w.Dropdown(options=["a", "b", "c"], value="a", description="pick")
    idle = w.FloatSlider(value=0.5)  # not observed: moving it would time nothing
    for c in (slider, menu):
        c.observe(lambda change: calls.append(change["new"]), names="value")
    box = w.VBox([w.HBox([slider, idle]), menu])
    found = wl.controls_of(box)
    assert len(found) == 2 and {id(c) for c in found} == {id(slider), id(menu)}
    times, labels = wl.measure_widget(box, changes_per_control=2)
    assert len(times) == len(labels) == len(calls) == 6  # two new values and back, per observed control
    assert (slider.value, menu.value, idle.value) == (3, "a", 0.5)
    assert all(t >= 0 for t in times)


def test_widget_discovery_reports_missing_chapters():
    wl = importlib.import_module("widget_latency")
    module, builders, note = wl.discover(99)
    assert (module, builders, note) == ("nnlib.widgets.ch99", [], "module does not exist yet")


def test_grading_benchmark_runs_and_reports_where_time_goes(tmp_path, capsys):
    """One Chapter 3 copy with its first drawing cell tagged: full marks, and a timing breakdown."""
    grading = importlib.import_module("grading")
    out = tmp_path / "grading.json"
    assert grading.main(["--copies", "1", "--jobs", "1", "--tag", "6", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    from nnlib.checks import registry

    full = sum(ex.points for ex in registry().values() if ex.chapter == "ch3")
    assert result["points"] == [full] and result["tagged"] == [6]
    assert result["median_kernel_start_s"] > 0 and result["slowest_cells"]
    assert 6 not in [i for i, _, _ in result["slowest_cells"]]  # the tagged cell did not run
    assert "s per submission" in capsys.readouterr().out
