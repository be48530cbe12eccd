"""The training engine: parameters, the MLM and SimCSE objectives, resume after kill -9, records, data parallel."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from lib import train as command
from lib.science import dropout, models, pooling, simcse, tokens, training
from lib.science.mlm import masked_lm_loss, parse_shape, select
from lib.science.params import ParameterError
from lib.science.provenance import REPO_ROOT
from tests.helpers import write_mirror


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return write_mirror(tmp_path_factory.mktemp("data") / "mirror", rows=60, corpus_lines=400)


def smoke(mirror, **extra):
    return dict(scale="smoke", data_dir=str(mirror), n_sentences=0, eval_pairs=0, **extra)


# --------------------------------------------------------------------------------------------- parameters
def test_parameters_are_checked_before_any_compute():
    p = training.resolve_params("simcse", {"scale": "smoke"})
    assert p["model"] == "tiny-random-bert" and p["pooling"] == "cls" and p["temperature"] == 0.05
    for bad, needle in [
        ({"temperature": 0}, "`temperature` = 0"),
        ({"pooling": "max"}, "`pooling` = 'max'"),
        ({"lr": -1.0}, "`lr` = -1.0"),
        ({"batch_size": 1}, "`batch_size` = 1"),
        ({"tau": 0.1}, "`tau` = 0.1 .* no such parameter"),
        ({"seed": "x"}, "`seed` = 'x'"),
        ({"device": "tpu"}, "`device` = 'tpu'"),
        ({"snapshot_steps": "often"}, "snapshot_steps"),
    ]:
        with pytest.raises(ParameterError, match=needle):
            training.resolve_params("simcse", {"scale": "smoke", **bad})
    with pytest.raises(ParameterError, match="`model` = 'L3-H10-A3'"):
        training.resolve_params("mlm", {"scale": "smoke", "model": "L3-H10-A3"})  # 10 % 3 != 0: no such shape
    assert training.resolve_params("simcse", {"scale": "smoke", "lr": 1})["lr"] == 1.0  # an int is a number


def test_command_line_rejects_bad_parameters_without_training(tmp_path, capsys):
    assert command.main(["simcse", "--out_dir", str(tmp_path / "x"), "--scale", "smoke", "-p", "pooling=max"]) == 2
    assert "`pooling` = 'max'" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_schedules():
    from transformers import get_linear_schedule_with_warmup

    cfg = training.resolve("simcse", {"scale": "paper"})
    assert training.max_steps_of(cfg, 1_000_000, 64) == 15625  # one epoch of wiki1m at batch 64
    assert training.max_steps_of(training.resolve("simcse", {"scale": "paper", "max_steps": 7}), 10, 64) == 7
    assert training.resolve("simcse", {"scale": "pocket"}).max_steps == 250  # presets name their length
    assert training.snapshot_schedule("log", 300) == [0, 10, 25, 50, 100, 250, 300]
    assert training.snapshot_schedule([0, 5, 900], 300) == [0, 5] and training.snapshot_schedule("none", 9) == []
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler, lr = get_linear_schedule_with_warmup(opt, 10, 100), []  # the engine's schedule (transformers')
    for _ in range(100):
        lr.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert lr[0] == 0 and lr[10] == pytest.approx(1.0) and lr[-1] == pytest.approx(1 / 90)
    assert all(a >= b for a, b in zip(lr[10:], lr[11:]))


def test_every_parameter_is_declared_once_with_help():
    for objective in training.OBJECTIVES:
        rows = training.describe(objective)
        assert len({name for name, _, _ in rows}) == len(rows) and all(text for _, _, text in rows)
        for scale, preset in training.CONFIGS[objective].PRESETS.items():
            assert set(preset) <= {name for name, _, _ in rows}, (objective, scale)


# --------------------------------------------------------------------------------------------- objectives
def test_mlm_selection_follows_bert():
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (64, 40))
    ids[:, 0], ids[:, -1] = 101, 102
    mask = torch.ones_like(ids)
    mask[:8, 30:] = 0
    special = torch.tensor([0, 100, 101, 102, 103])
    inputs, selected, labels = select(ids, mask, special, 30522, 103, 0.15, gen)
    assert not selected[:, 0].any() and not selected[:, -1].any() and not selected[:8, 30:].any()
    assert 0.12 < selected.sum() / (mask.sum() - 2 * 64) < 0.18
    assert torch.equal(labels, ids[selected])
    changed = inputs[selected]
    assert 0.75 < (changed == 103).float().mean() < 0.85
    assert 0.05 < ((changed != 103) & (changed == labels)).float().mean() < 0.15  # kept
    assert torch.equal(inputs[~selected], ids[~selected])


def test_masked_loss_equals_the_stock_loss_and_gradients():
    """Gathering hidden states before the vocabulary projection changes nothing but the cost."""
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(
        BertConfig(
            vocab_size=500, hidden_dropout_prob=0, attention_probs_dropout_prob=0, **parse_shape("L2-H32-A2-I64")
        )
    )
    ids = torch.randint(5, 500, (4, 12))
    mask = torch.ones_like(ids)
    inputs, selected, labels = select(ids, mask, torch.tensor([0]), 500, 3, 0.3, torch.Generator().manual_seed(1))
    ours, _ = masked_lm_loss(model, inputs, mask, selected, labels)
    ours.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    stock = model(input_ids=inputs, attention_mask=mask, labels=torch.where(selected, ids, -100)).loss
    stock.backward()
    assert float(ours.detach()) == pytest.approx(float(stock.detach()), rel=1e-6)
    assert all(torch.allclose(a, p.grad, atol=1e-6) for a, p in zip(grads, model.parameters()))


def test_contrastive_loss_is_infonce_over_cosines():
    z1, z2 = torch.randn(6, 8), torch.randn(6, 8)
    cos = torch.nn.functional.normalize(z1, dim=-1) @ torch.nn.functional.normalize(z2, dim=-1).T
    expect = -(torch.log_softmax(cos / 0.05, dim=1).diagonal()).mean()
    assert float(simcse.contrastive_loss(z1, z2, 0.05)) == pytest.approx(float(expect), rel=1e-5)
    assert float(simcse.contrastive_loss(z1, z1 * 3, 0.05)) < float(simcse.contrastive_loss(z1, z2, 0.05))


def test_views_encode_each_sentence_twice_in_one_pass():
    enc = models.load("tiny-random-bert", "cpu")
    batch = enc.tokenizer(["a cat", "a dog on the mat"], padding=True, return_tensors="pt")
    enc.model.eval()  # no dropout: the two views must then be identical
    z1, z2 = simcse.views(enc.model, batch["input_ids"], batch["attention_mask"], "avg", None)
    assert z1.shape == (2, 32) and torch.allclose(z1, z2, atol=1e-6)
    enc.model.train()  # dropout makes two different views
    z1, z2 = simcse.views(enc.model, batch["input_ids"], batch["attention_mask"], "avg", None)
    assert not torch.allclose(z1, z2)


def test_fast_dropout_is_dropout():
    """The CPU masks: keep rate 1 - p, scale 1 / (1 - p), the same masks from the same seed, and the swapped
    encoder gives exactly what the stock one gives when nothing is dropped (evaluation)."""
    source = dropout.MaskSource(7)
    layer = dropout.Dropout(0.1, source).train()
    out = layer(torch.ones(400, 1000))
    assert abs(float((out > 0).float().mean()) - 0.9) < 0.003
    assert torch.allclose(out[out > 0], torch.tensor(1 / 0.9))
    source.seed(3)
    first = source.keep((5, 7), 0.5)
    source.seed(3)
    assert torch.equal(first, source.keep((5, 7), 0.5))
    assert isinstance(layer, torch.nn.Dropout) and layer.eval()(out) is out

    stock = models.load("tiny-random-bert", "cpu").model.eval()
    swapped = dropout.install(models.load("tiny-random-bert", "cpu").model, dropout.MaskSource(0)).eval()
    assert not any(type(m) is torch.nn.Dropout for m in swapped.modules())
    ids = torch.tensor([[101, 2054, 2003, 102, 0], [101, 2054, 102, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        assert torch.equal(
            stock(input_ids=ids, attention_mask=mask).last_hidden_state,
            swapped(input_ids=ids, attention_mask=mask).last_hidden_state,
        )
        swapped.train()  # dropout on: two passes differ, pad keys stay masked (the first sentence ignores them)
        a = swapped(input_ids=ids, attention_mask=mask).last_hidden_state
        b = swapped(input_ids=ids, attention_mask=mask).last_hidden_state
        assert not torch.equal(a, b)
        for module in swapped.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 1e-12  # nothing dropped, yet through the training path: equals the stock model
        stock.config._attn_implementation = "eager"
        out = swapped(input_ids=ids, attention_mask=mask).last_hidden_state
        assert torch.allclose(
            out[mask.bool()], stock(input_ids=ids, attention_mask=mask).last_hidden_state[mask.bool()], atol=1e-5
        )


def test_poolings():
    h = [torch.full((1, 3, 2), float(i)) for i in range(4)]  # embeddings=0, layer 1=1, layer 2=2, last=3
    h[-1][0, 0] = torch.tensor([9.0, 9.0])
    mask = torch.tensor([[1, 1, 0]])
    assert pooling.pool(h, mask, "cls").tolist() == [[9.0, 9.0]]
    assert pooling.pool(h, mask, "avg").tolist() == [[6.0, 6.0]]
    assert pooling.pool(h, mask, "avg_first_last").tolist() == [[3.5, 3.5]]  # (layer 1 + last) / 2, first layer=[1]
    assert pooling.pool(h, mask, "avg_top2").tolist() == [[4.0, 4.0]]
    with pytest.raises(ValueError, match="pooling"):
        pooling.pool(h, mask, "max")


def test_token_classes():
    from lib.science import tiny

    tok = tiny.bert_tokenizer()
    mask = tokens.functional_mask(tok)
    ids = tok.convert_tokens_to_ids(["the", ",", "[CLS]", "[PAD]", "is", "guitar", "##ing", "2019", "running"])
    assert mask[ids].tolist() == [True, True, True, True, True, False, False, False, False]
    broad = tokens.functional_mask(tok, "stop-words")
    assert broad.sum() > mask.sum() and (broad | mask).sum() == broad.sum()  # a superset
    assert tokens.classes_of(ids[:2] + ids[5:6], mask) == {"functional": ids[:2], "semantic": ids[5:6]}


# --------------------------------------------------------------------------------------------- runs
def test_a_smoke_simcse_run_records_everything(mirror, tmp_path):
    record = training.train(
        "simcse",
        smoke(mirror, max_steps=12, eval_steps=4, checkpoint_steps=6, snapshot_steps=[0, 6, 12]),
        tmp_path / "run",
        progress=False,
    )
    assert record["status"] == "finished" and record["step"] == 12
    assert [e["step"] for e in record["evals"]] == [0, 4, 8, 12]
    assert record["evals"][0]["loss"] is None and all(e["loss"] > 0 for e in record["evals"][1:])
    assert [s["step"] for s in record["snapshots"]] == [0, 6, 12]
    layer = record["snapshots"][-1]["per_layer"][-1]
    assert {"anisotropy", "intra_sim", "intra_sim_adj", "self_sim", "norm", "rogue_top1_share"} <= layer.keys()
    assert len(record["snapshots"][0]["self_sim_functional"]) == 3 and record["snapshots"][0]["func_to_content"]
    assert record["best"]["step"] > 0  # the start is evaluated, not eligible (SimCSE's load_best_model_at_end)
    assert record["schedule"]["global_batch"] == 8 and record["final"]["weights_sha256"]
    assert record["provenance"]["git"]["commit"] and str(tmp_path) not in json.dumps(record["provenance"])
    best = models.load(str(tmp_path / "run" / "best"), "cpu")
    assert best.tokenizer("Hello, world!")["input_ids"] == [101, 7592, 1010, 2088, 999, 102]
    assert not best.model.training
    # the same command again: finished, nothing retrained
    mtime = (tmp_path / "run" / "checkpoint.pt").stat().st_mtime_ns
    again = training.train(
        "simcse",
        smoke(mirror, max_steps=12, eval_steps=4, checkpoint_steps=6, snapshot_steps=[0, 6, 12]),
        tmp_path / "run",
        progress=False,
    )
    assert again == record and (tmp_path / "run" / "checkpoint.pt").stat().st_mtime_ns == mtime
    with pytest.raises(training.TrainingError, match="other parameters .* temperature"):
        training.train(
            "simcse",
            smoke(mirror, max_steps=12, eval_steps=4, checkpoint_steps=6, snapshot_steps=[0, 6, 12], temperature=0.1),
            tmp_path / "run",
            progress=False,
        )


def test_a_prefix_of_a_longer_schedule_is_that_schedule_stopped(mirror, tmp_path):
    """``stop_step`` trains the first steps of a ``max_steps`` schedule: the learning rate decays over the whole
    schedule, so the prefix is the longer run's path, step for step (the path comparison of chapter 5)."""
    common = dict(max_steps=16, eval_steps=4, checkpoint_steps=4, snapshot_steps=[0, 4, 8])
    whole = training.train("simcse", smoke(mirror, **common), tmp_path / "whole", progress=False)
    prefix = training.train("simcse", smoke(mirror, stop_step=8, **common), tmp_path / "prefix", progress=False)
    assert prefix["status"] == "finished" and prefix["step"] == 8 and prefix["final"]["step"] == 8
    assert prefix["schedule"]["max_steps"] == 16 and prefix["schedule"]["end_step"] == 8
    assert [e["step"] for e in prefix["evals"]] == [0, 4, 8]
    assert prefix["evals"] == whole["evals"][:3]  # same losses and STS-B dev: the same path
    assert prefix["snapshots"] == whole["snapshots"]
    shorter = training.train("simcse", smoke(mirror, **dict(common, max_steps=8)), tmp_path / "short", progress=False)
    assert shorter["evals"][-1]["loss"] != prefix["evals"][-1]["loss"]  # a shorter schedule decays faster
    with pytest.raises(ParameterError, match="`stop_step` = 20"):
        training.resolve("simcse", smoke(mirror, stop_step=20, max_steps=16))


def test_a_parameter_added_later_keeps_the_names_of_runs_that_leave_it_at_its_default():
    from lib.book import identity

    base = training.resolve_params("simcse", {"scale": "smoke"})
    assert identity.run_name(base) == identity.run_name({k: v for k, v in base.items() if k != "stop_step"})
    assert identity.run_name(base) != identity.run_name(dict(base, stop_step=5))


def test_a_smoke_mlm_run(mirror, tmp_path):
    record = training.train(
        "mlm",
        smoke(mirror, heldout=50, max_steps=6, eval_steps=3),
        tmp_path / "plm",
        progress=False,
        cache_dir=tmp_path / "cache",
    )
    assert record["status"] == "finished" and 0 < record["baseline"]["accuracy"] < 1
    last = record["evals"][-1]
    assert {"heldout_loss", "heldout_accuracy", "stsb_dev", "stsb_dev_cls"} <= last.keys()
    assert list((tmp_path / "cache").glob("corpus-*.npz"))  # the tokenised corpus is cached
    plm = models.load(str(tmp_path / "plm" / "last"), "cpu")  # an MLM checkpoint loads as an encoder
    assert plm.n_layers == 2 and plm.tokenizer("the cat")["input_ids"] == [101, 1996, 4937, 102]
    config = json.loads((tmp_path / "plm" / "last" / "config.json").read_text())
    assert config["hidden_dropout_prob"] == 0.1 and config["architectures"] == ["BertForMaskedLM"]
    # SimCSE starts from it
    record = training.train(
        "simcse",
        smoke(mirror, model=str(tmp_path / "plm" / "last"), max_steps=4, eval_steps=2, snapshot_steps="none"),
        tmp_path / "cl",
        progress=False,
    )
    assert record["status"] == "finished"


def test_a_nonfinite_loss_stops_with_a_clear_message(mirror, tmp_path):
    with pytest.raises(training.NonFiniteLoss, match="loss is nan at step 1"):
        training.train(
            "simcse",
            smoke(mirror, max_steps=4, temperature=1e-40, snapshot_steps="none"),
            tmp_path / "nan",
            progress=False,
        )
    status = json.loads((tmp_path / "nan" / "train.json").read_text())
    assert status["status"] == "failed" and "lr" in status["error"] and not (tmp_path / "nan" / "last").exists()


def _run(out_dir, mirror, *extra):
    env = dict(os.environ, SRL_DATA_DIR=str(mirror), HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lib.train",
            "simcse",
            "--out_dir",
            str(out_dir),
            "--scale",
            "smoke",
            "--quiet",
            "-p",
            "max_steps=24",
            "-p",
            "eval_steps=5",
            "-p",
            "checkpoint_steps=4",
            "-p",
            "precision=bf16",
            "-p",
            "n_sentences=0",
            "-p",
            "eval_pairs=0",
            "-p",
            "snapshot_steps=[0, 10, 24]",
            *extra,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _step(out_dir) -> int:
    try:
        return json.loads((out_dir / "train.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return -1


@pytest.mark.parametrize("kill_at", [2, 9])  # before the first checkpoint; after two, mid-way to the next
def test_kill_9_and_resume_gives_bit_identical_weights(mirror, tmp_path, kill_at):
    reference = _run(tmp_path / "ref", mirror)
    assert reference.wait(300) == 0, reference.stderr.read().decode()[-2000:]
    victim = _run(tmp_path / "run", mirror)
    deadline = time.time() + 300
    while _step(tmp_path / "run") < kill_at and victim.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(60)
    assert _step(tmp_path / "run") < 24  # it was killed mid-run
    resumed = _run(tmp_path / "run", mirror)
    assert resumed.wait(300) == 0, resumed.stderr.read().decode()[-2000:]
    a = json.loads((tmp_path / "ref" / "train.json").read_text())
    b = json.loads((tmp_path / "run" / "train.json").read_text())
    assert a["final"]["weights_sha256"] == b["final"]["weights_sha256"]
    assert a["evals"] == b["evals"] and [s["step"] for s in b["snapshots"]] == [0, 10, 24]


def test_a_truncated_checkpoint_stops_the_resume_with_one_message_naming_it(mirror, tmp_path):
    out = tmp_path / "run"
    params = smoke(mirror, max_steps=8, checkpoint_steps=4, eval_steps=4, snapshot_steps="none")
    training.train("simcse", dict(params, max_steps=16), out, progress=False)  # a checkpoint at step 16
    blob = (out / "checkpoint.pt").read_bytes()
    (out / "checkpoint.pt").write_bytes(blob[: len(blob) // 3])  # damaged after it was written
    proc = _run(out, mirror)  # the command line: no traceback, the checkpoint named
    assert proc.wait(300) == 2
    err = proc.stderr.read().decode()
    assert "checkpoint.pt cannot be read" in err and "Delete it" in err and "Traceback" not in err
    with pytest.raises(training.TrainingError, match="checkpoint.pt cannot be read"):
        training.train("simcse", dict(params, max_steps=16), out, progress=False)


def test_two_processes_on_one_folder_train_it_once(mirror, tmp_path):
    # started together: whichever takes the lock trains; the other waits, then finds the run finished (started
    # one after the other instead, a loaded machine can finish the first run before the second has imported torch)
    first, second = _run(tmp_path / "run", mirror), _run(tmp_path / "run", mirror)
    deadline = time.time() + 300
    assert first.wait(300) == 0 and second.wait(300) == 0
    messages = [p.stderr.read().decode() for p in (first, second)]
    assert sum("is training this run; waiting" in m for m in messages) == 1, messages
    record = json.loads((tmp_path / "run" / "train.json").read_text())
    assert [e["step"] for e in record["evals"]] == [0, 5, 10, 15, 20, 24]  # one run's evaluations, once each
    with pytest.raises(training.TrainingError, match="is being trained by process"):
        holder = _run(tmp_path / "other", mirror)
        while _step(tmp_path / "other") < 1 and holder.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        try:
            training.train("simcse", smoke(mirror, max_steps=24), tmp_path / "other", progress=False, wait=False)
        finally:
            holder.kill()
            holder.wait(60)


def test_nothing_is_created_for_a_run_that_cannot_start(mirror, tmp_path):
    with pytest.raises(ParameterError, match="`model` = 'no-such-model'"):
        training.train("simcse", smoke(mirror, model="no-such-model"), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


def test_two_cpu_processes_share_the_negatives(mirror, tmp_path):
    env = dict(os.environ, SRL_DATA_DIR=str(mirror), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            "-m",
            "lib.train",
            "simcse",
            "--out_dir",
            str(tmp_path / "ddp"),
            "--scale",
            "smoke",
            "--quiet",
            "-p",
            "max_steps=6",
            "-p",
            "eval_steps=3",
            "-p",
            "snapshot_steps=none",
            "-p",
            "n_sentences=0",
            "-p",
            "eval_pairs=0",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "ddp" / "train.json").read_text())
    assert record["status"] == "finished" and record["schedule"]["world_size"] == 2
    assert record["schedule"]["global_batch"] == 16 and [e["step"] for e in record["evals"]] == [0, 3, 6]
    assert (tmp_path / "ddp" / "best" / "config.json").is_file()


def test_gathered_negatives_keep_the_local_gradient(monkeypatch):
    """gather_with_grad puts this process's tensor, with its gradient, at its rank (SimCSE's cl_forward)."""
    import torch.distributed as dist

    other = torch.randn(3, 4)
    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    monkeypatch.setattr(dist, "get_rank", lambda: 1)

    def all_gather(parts, z):
        parts[0].copy_(other)
        parts[1].copy_(z)

    monkeypatch.setattr(dist, "all_gather", all_gather)
    z = torch.randn(3, 4, requires_grad=True)
    out = simcse.gather_with_grad(z)
    assert torch.equal(out[:3], other) and torch.equal(out[3:], z.detach())
    out.sum().backward()
    assert torch.equal(z.grad, torch.ones_like(z))


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_the_cuda_path(mirror, tmp_path, precision):
    """SimCSE and MLM on a GPU with mixed precision (fp16: autocast and the gradient scaler, SimCSE's --fp16)."""
    record = training.train(
        "simcse",
        smoke(mirror, device="cuda", precision=precision, max_steps=6, eval_steps=3),
        tmp_path / "cl",
        progress=False,
    )
    assert record["status"] == "finished" and record["provenance"]["device"]["gpu"]
    record = training.train(
        "mlm",
        smoke(mirror, device="cuda", precision=precision, heldout=50, max_steps=6, eval_steps=3),
        tmp_path / "plm",
        progress=False,
    )
    assert record["status"] == "finished" and np.isfinite(record["evals"][-1]["heldout_loss"])
