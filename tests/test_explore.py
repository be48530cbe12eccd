"""The charts a reader explores: the token explorer (Chapter 4) and the training-step scrubber (Chapter 5). What
their specs carry -- the rows, the bound inputs, the values the browser computes -- is checked here; that they
draw and respond in a browser is checked on the built book (tests/rendered_book.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from lib.book import explore
from lib.science.geometry import Geometry
from tests.helpers import spec_values

N_STATES = 4


class Tokens:
    def convert_ids_to_tokens(self, ids):
        return [{0: "[PAD]", 1: "the", 2: "##s"}.get(i, f"w{i}") for i in ids]


def _geometry(ids, sims, anisotropy, contexts=None) -> Geometry:
    ids = np.asarray(ids)
    return Geometry(
        vocab_ids=ids,
        counts=ids * 10 + 5,
        contexts=np.asarray(contexts if contexts is not None else [3] * len(ids)),
        self_sim_per_id=np.asarray(sims, dtype=float),
        unit_sum=np.zeros((N_STATES, 0, 2)),
        intra_sim=np.zeros(len(sims)),
        norm=np.ones(len(sims)),
        anisotropy_per_seed=np.asarray([anisotropy], dtype=float),
        seeds=[0],
    )


@pytest.fixture(scope="module")
def geometries():
    rng = np.random.default_rng(0)
    ids = np.arange(150)
    plm = _geometry(ids, rng.uniform(0.2, 0.9, (N_STATES, 150)), [0.1, 0.2, 0.3, 0.4])
    seeds = [
        _geometry(ids, rng.uniform(0.2, 0.9, (N_STATES, 150)), [0.05 * (s + 1)] * N_STATES, contexts=[3] * 149 + [1])
        for s in range(2)
    ]
    avg = [_geometry(ids, rng.uniform(0.2, 0.9, (N_STATES, 150)), [0.02] * N_STATES)]
    functional = np.zeros(200, dtype=bool)
    functional[[0, 1]] = True
    return plm, {"cls": seeds, "avg": avg}, functional


def test_the_token_table_has_one_row_per_token_layer_and_pooling(geometries):
    plm, cls_by_variant, functional = geometries
    table = explore.token_table(plm, cls_by_variant, Tokens(), functional)
    assert list(table.columns) == explore.TOKEN_COLUMNS
    # id 149 has one sentence in the cls runs: measured by neither pooling's comparison
    assert table["id"].nunique() == 149 and len(table) == 149 * N_STATES * 2
    row = table[(table.id == 1) & (table.layer == 2) & (table.variant == "cls")].iloc[0]
    cls_mean = np.mean([g.self_sim_per_id[2, 1] for g in cls_by_variant["cls"]])
    assert (row.token, row["class"], row["count"], row.seeds) == ("the", "functional", 15, 2)
    assert row.plm_raw == pytest.approx(plm.self_sim_per_id[2, 1]) and row.cl_raw == pytest.approx(cls_mean)
    assert row.plm_adj == pytest.approx(row.plm_raw - 0.3)
    assert row.cl_adj == pytest.approx(cls_mean - 0.075)  # each seed's own anisotropy, averaged
    assert row.delta_adj == pytest.approx(row.cl_adj - row.plm_adj)
    assert set(table[table.id == 7]["class"]) == {"semantic"}
    with pytest.raises(ValueError, match="states"):
        explore.token_table(plm, {"cls": [_geometry(range(3), np.zeros((2, 3)), [0, 0])]}, Tokens(), functional)


def _params(spec) -> dict:
    return {p["name"]: p for p in spec["params"]}


def _unit(spec, mark):
    return next(layer for layer in spec["layer"] if layer["mark"]["type"] == mark)


def test_the_token_explorer_carries_its_rows_a_tooltip_and_bound_inputs(geometries):
    plm, cls_by_variant, functional = geometries
    table = explore.token_table(plm, cls_by_variant, Tokens(), functional)
    chart = explore.token_explorer(table, "tokens")
    spec = chart.to_dict()
    params = _params(spec)
    assert params["layer"]["bind"] == {"input": "range", "min": 0, "max": N_STATES - 1, "step": 1, "name": "layer "}
    assert params["layer"]["value"] == N_STATES - 1  # the last layer first
    assert params["mode"]["bind"]["input"] == "radio" and params["mode"]["bind"]["options"] == ["raw", "adjusted"]
    assert params["pooling"]["bind"]["labels"] == ["cls", "avg"]
    assert params["search"]["bind"]["input"] == "search"
    rows = next(d for d in spec["datasets"].values() if d and "token" in d[0])
    assert len(rows) == 149 * N_STATES  # one row per token and layer, the poolings side by side
    dots = _unit(spec, "circle")
    assert {t["field"] for t in dots["encoding"]["tooltip"]} >= {"token", "count", "contexts", "x", "y", "delta"}
    assert dots["encoding"]["color"]["field"] == "class" and dots["encoding"]["size"]["field"] == "count"
    # what the browser computes is the table's adjusted value: raw minus that model's anisotropy at that layer
    row = next(r for r in rows if r["id"] == 5 and r["layer"] == 2)
    ref = table[(table.id == 5) & (table.layer == 2)].set_index("variant")
    anisotropy = params["A"]["value"]
    assert row["p"] - anisotropy["plm"][2] == pytest.approx(ref.loc["cls", "plm_adj"], abs=2e-4)
    assert row["c0"] - anisotropy["c0"][2] == pytest.approx(ref.loc["cls", "cl_adj"], abs=2e-4)
    assert row["c1"] - anisotropy["c1"][2] == pytest.approx(ref.loc["avg", "cl_adj"], abs=2e-4)
    assert all(len(repr(r["p"]).lstrip("0.-").replace(".", "")) <= 4 for r in rows)  # 4 significant digits
    calc = json.dumps(dots["transform"])
    assert "datum['c' + pooling]" in calc and "A.plm[datum.layer]" in calc and "lower(trim(search))" in calc
    assert explore.spec_bytes(chart) < 250_000


def test_values_are_rounded_to_significant_digits():
    assert list(explore.round_sig([0.123456, -0.00123456, 12.3456, 0.0])) == [0.1235, -0.001235, 12.35, 0.0]


def _curves() -> pd.DataFrame:
    rows = []
    schedules = {"cls · seed 0": [0, 10, 100, 250], "cls · seed 1": [0, 10, 100, 250], "avg · seed 0": [0, 25, 1563]}
    for name, steps in schedules.items():
        for st in steps:
            for layer in range(3):
                rows.append(dict(series=name, step=st, layer=layer, metric="anisotropy A", value=0.5 - st / 5000))
            rows.append(dict(series=name, step=st, layer=np.nan, metric="STS-B dev ×100", value=40 + st / 100))
    return pd.DataFrame(rows)


def test_one_step_slider_drives_every_panel_of_the_scrubber():
    spec = explore.scrubber(_curves(), ["anisotropy A", "STS-B dev ×100"], "dynamics").to_dict()
    bound = [p for p in spec_values(spec, "params") for p in p if "bind" in p]
    assert [p["name"] for p in bound] == ["snapshot"] and spec["params"][0]["name"] == "snapshot"
    steps = [0, 10, 25, 100, 250, 1563]  # every run's snapshots, in order: the slider moves by index
    assert bound[0]["bind"]["max"] == len(steps) - 1 and bound[0]["value"] == len(steps) - 1
    filters = [f["filter"] for f in spec_values(spec, "transform") for f in f if "filter" in f]
    assert filters and all("snapshot" in f for f in filters)  # the profile reads the slider
    rules = [m for m in spec_values(spec, "mark") if isinstance(m, dict) and m["type"] == "rule"]
    assert len(rules) == 2 and f'"calculate": "{json.dumps(steps)}[snapshot]"' in json.dumps(spec)
    profile = next(d for d in spec["datasets"].values() if d and "i_from" in d[0] and d[0]["metric"] == "anisotropy A")
    # cls stopped at 250: from its last snapshot on, the slider shows it; avg's step 25 holds until 1563
    last_cls = next(r for r in profile if r["series"] == "cls · seed 0" and r["step"] == 250 and r["layer"] == 0)
    assert (last_cls["i_from"], last_cls["i_to"]) == (4, 6)
    avg_25 = next(r for r in profile if r["series"] == "avg · seed 0" and r["step"] == 25 and r["layer"] == 0)
    assert (avg_25["i_from"], avg_25["i_to"]) == (2, 5)
    with pytest.raises(ValueError, match="no rows for metrics"):
        explore.scrubber(_curves(), ["nope"], "t")


def test_the_scrubber_averages_seeds_into_a_band():
    spec = explore.scrubber(_curves(), ["anisotropy A"], "dynamics", seed="seed").to_dict()
    rows = next(d for d in spec["datasets"].values() if d and "lo" in d[0])
    assert {r["series"] for r in rows} == {"cls", "avg"}
    assert "area" in [m["type"] if isinstance(m, dict) else m for m in spec_values(spec, "mark")]
