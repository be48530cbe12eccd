"""lib.geometry on constructed geometries with known answers, and against the plain loop reference."""

import numpy as np
import pytest
import torch

from lib.science import encode, geometry, models
from lib.science.geometry import (
    Accumulator,
    dimension_contributions,
    intra_similarity,
    mean_pairwise_cosine,
    top_k_share,
)
from lib.science.occurrences import plan_tokens, sample_tokens
from tests.helpers import PER_LAYER_KEYS, SENTENCES, random_corpus
from tests.loop_reference import loop_metrics, pad_matrix


# --------------------------------------------------------------------------------------------- known answers
def test_identical_vectors_have_cosine_one():
    x = torch.tensor([[0.3, -1.2, 2.0]]).repeat(7, 1) * torch.arange(1, 8)[:, None]  # same direction, any length
    assert mean_pairwise_cosine(x) == pytest.approx(1.0, abs=1e-12)


def test_orthogonal_vectors_have_cosine_zero():
    assert mean_pairwise_cosine(torch.eye(16) * 5) == pytest.approx(0.0, abs=1e-12)


def test_antipodal_pair_has_cosine_minus_one():
    assert mean_pairwise_cosine(torch.tensor([[1.0, 2.0], [-1.0, -2.0]])) == pytest.approx(-1.0, abs=1e-12)


def test_isotropic_gaussian_cloud_is_isotropic():
    x = torch.randn(2000, 64, generator=torch.Generator().manual_seed(0))
    # E = 0; the standard deviation of this mean is about sqrt(2 / (n^2 d)) ~ 1e-4
    assert abs(mean_pairwise_cosine(x)) < 2e-3


def test_shared_offset_makes_a_cloud_anisotropic():
    x = torch.randn(500, 32, generator=torch.Generator().manual_seed(1)) + 3.0
    assert mean_pairwise_cosine(x) > 0.85


def test_one_dominant_dimension_takes_the_contribution():
    gen = torch.Generator().manual_seed(2)
    x = 0.1 * torch.randn(200, 48, generator=gen)
    x[:, 3] += 10.0
    c = dimension_contributions(x)
    assert c.sum() == pytest.approx(1.0, abs=1e-12)
    assert int(c.argmax()) == 3 and c[3] > 0.95
    assert float(top_k_share(c, 1)) == pytest.approx(float(c[3]))


def test_contributions_sum_to_one_and_match_their_definition():
    x = torch.randn(30, 10, generator=torch.Generator().manual_seed(3)).double()
    c = dimension_contributions(x)
    n = x / x.norm(dim=1, keepdim=True)
    direct = torch.stack([(n[:, k, None] * n[None, :, k]).sum() for k in range(10)]) / (n @ n.T).sum()
    assert torch.allclose(c, direct, atol=1e-12)
    assert c.sum() == pytest.approx(1.0, abs=1e-12)


def test_intra_similarity_ignores_padding():
    gen = torch.Generator().manual_seed(4)
    h = torch.randn(3, 6, 8, generator=gen)
    lengths = torch.tensor([6, 2, 4])
    base = intra_similarity(h, lengths)
    h2 = h.clone()
    h2[1, 2:] = 1e3 * torch.randn(4, 8, generator=gen)  # garbage in padding
    h2[2, 4:] = -7.0
    assert torch.allclose(intra_similarity(h2, lengths), base)
    same = torch.ones(1, 5, 8)
    assert intra_similarity(same, torch.tensor([5])).item() == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------- token plan
@pytest.mark.parametrize("pad_id", [0, 1, 30000])
def test_plan_counts_padding_like_the_padded_matrix(pad_id):
    ids = [[101, 7, 8, 7, 102], [101, 7, 102], [101, 9, 102], [101, 8, 8, 9, 9, 9, 102]]
    plan = plan_tokens(ids, pad_id, min_count=3)
    padded = pad_matrix(ids, pad_id)
    assert plan.padded_length == 7
    expected = {w: int((padded == w).sum()) for w in np.unique(padded) if (padded == w).sum() >= 3}
    assert dict(zip(plan.vocab_ids.tolist(), plan.counts.tolist())) == expected
    slot = {w: k for k, w in enumerate(plan.vocab_ids.tolist())}
    # first occurrences: id 7 at position 1 in sentence 0 (not 3); pad at each shorter sentence's length
    occ = {
        (s, int(plan.vocab_ids[plan.occ_slot[r]])): int(plan.occ_pos[r])
        for s in range(4)
        for r in range(plan.occ_ptr[s], plan.occ_ptr[s + 1])
    }
    assert occ[(0, 7)] == 1 and occ[(3, 9)] == 3 and occ[(3, 8)] == 1
    assert {s: occ[(s, pad_id)] for s in range(4) if (s, pad_id) in occ} == {0: 5, 1: 3, 2: 3}
    assert plan.contexts[slot[pad_id]] == 3  # the longest sentence has no padding
    assert plan.contexts[slot[101]] == 4


def test_pad_leaves_the_vocabulary_when_rarely_counted():
    ids = [[101, 5, 5, 102]] * 6 + [[101, 5, 5, 5, 102]]  # only 6 pad cells in the padded matrix
    assert 0 in plan_tokens(ids, 0, min_count=6).vocab_ids
    assert 0 not in plan_tokens(ids, 0, min_count=7).vocab_ids


def test_token_samples_are_seeded_and_valid():
    lengths = np.array([3, 5, 9, 4, 2, 7, 6, 8])
    a, b, c = (sample_tokens(lengths, 5, 4, s) for s in (0, 0, 1))
    assert np.array_equal(a.sentences, b.sentences) and np.array_equal(a.positions, b.positions)
    assert not (np.array_equal(a.sentences, c.sentences) and np.array_equal(a.positions, c.positions))
    assert len(set(a.sentences.tolist())) == 5 and np.all(np.diff(a.sentences) > 0)
    assert a.positions.shape == (4, 5) and np.all(a.positions < lengths[a.sentences]) and np.all(a.positions >= 0)
    with pytest.raises(ValueError, match="n_samples"):
        sample_tokens(lengths, 9, 4, 0)


# --------------------------------------------------------------------------------------------- vs the loop reference
def _stream(hidden: np.ndarray, token_ids, pad_id, samples, batch_size, special_ids=()):
    """Feed hidden states ``[L+1, N, T, d]`` the way lib.encode batches them (width = batch max + 1, capped)."""
    plan = plan_tokens(token_ids, pad_id)
    acc = Accumulator(plan, samples, hidden.shape[0], hidden.shape[-1])
    for index in encode.length_batches(plan.lengths, batch_size):
        width = min(int(plan.lengths[index].max()) + 1, plan.padded_length)
        acc.add(index, torch.as_tensor(hidden[:, index, :width]), torch.as_tensor(plan.lengths[index]))
    return acc.finish([s.seed for s in samples], special_ids)


def _compare(geo, ref, atol):
    for layer in range(geo.n_states):
        ours = {int(w): v for w, v in zip(geo.vocab_ids, geo.self_sim_per_id[layer]) if not np.isnan(v)}
        assert ours.keys() == ref["self_sim_per_id"][layer].keys()
        for w, v in ref["self_sim_per_id"][layer].items():
            assert ours[w] == pytest.approx(v, abs=atol)
            row = int(np.searchsorted(geo.vocab_ids[geo.measured], w))
            assert np.allclose(geo.contributions(layer)[row], ref["contributions"][layer][w], atol=atol, equal_nan=True)
    assert np.allclose(geo.intra_sim, ref["intra_sim"], atol=atol)
    assert np.allclose(geo.norm, ref["norm"], rtol=1e-6)
    assert np.allclose(geo.anisotropy_per_seed, ref["anisotropy_per_seed"], atol=atol)


@pytest.mark.parametrize("pad_id,batch_size", [(0, 1), (0, 7), (1, 16), (1, 1000)])
def test_streaming_metrics_match_the_loop_reference(pad_id, batch_size):
    token_ids = random_corpus(40, vocab=30, seed=pad_id)
    padded = pad_matrix(token_ids, pad_id)
    rng = np.random.default_rng(10 + pad_id)
    n_states, d = 3, 12
    embed = rng.normal(size=(200, d))
    hidden = (
        embed[padded][None]
        + 0.7 * rng.normal(size=(n_states, *padded.shape, d))
        + np.arange(n_states)[:, None, None, None]
    )  # layer-dependent offset: growing anisotropy
    lengths = [len(t) for t in token_ids]
    samples = [sample_tokens(np.array(lengths), 25, n_states, s) for s in (0, 1, 2)]
    geo = _stream(hidden.astype(np.float32), token_ids, pad_id, samples, batch_size)
    ref = loop_metrics(list(hidden.astype(np.float32)), padded, lengths, samples)
    _compare(geo, ref, atol=1e-6)
    # seed aggregation and the rogue-dimension summary, from the reference's per-id numbers
    per_seed = np.array(ref["anisotropy_per_seed"])
    assert np.allclose(geo.anisotropy, per_seed.mean(0)) and np.allclose(geo.anisotropy_sd, per_seed.std(0, ddof=1))
    for layer, record in enumerate(geo.per_layer()):
        mean_c = np.mean(list(ref["contributions"][layer].values()), axis=0)
        assert np.allclose(geo.mean_contributions()[layer], mean_c, atol=1e-6)
        assert record["rogue_top1_share"] == pytest.approx(mean_c.max(), abs=1e-6)
        assert record["rogue_top3_share"] == pytest.approx(np.sort(mean_c)[-3:].sum(), abs=1e-6)
        assert record["rogue_top_dims"][0] == int(mean_c.argmax())
        per_id = np.array(list(ref["contributions"][layer].values()))
        assert geo.rogue_shares(1, "per_token")[layer] == pytest.approx(per_id.max(1).mean(), abs=1e-6)
        assert geo.rogue_shares(3, "per_token")[layer] == pytest.approx(
            np.sort(per_id, 1)[:, -3:].sum(1).mean(), abs=1e-6
        )
    # the layer means and the quirk switches agree with the reference's own vocabulary filters
    for pad_in, special_in in [(True, True), (False, True), (False, False)]:
        drop = set() if pad_in else {pad_id}
        drop |= set() if special_in else {101, 102}
        expect = [np.mean([v for w, v in ref["self_sim_per_id"][l].items() if w not in drop]) for l in range(n_states)]
        geo.special_ids = [101, 102, pad_id]
        assert np.allclose(geo.self_sim(pad_in, special_in), expect, atol=1e-6)


def test_accumulator_refuses_double_or_missing_sentences():
    token_ids = random_corpus(6, vocab=12, seed=0)
    plan = plan_tokens(token_ids, 0)
    acc = Accumulator(plan, [], 1, 4)
    h = torch.randn(1, 2, plan.padded_length, 4)
    acc.add(np.array([0, 1]), h, torch.as_tensor(plan.lengths[[0, 1]]))
    with pytest.raises(ValueError, match="twice"):
        acc.add(np.array([1, 2]), h, torch.as_tensor(plan.lengths[[1, 2]]))
    with pytest.raises(ValueError, match="never added"):
        acc.finish([])


# --------------------------------------------------------------------------------------------- with real encoders
@pytest.mark.parametrize("name", ["tiny-random-bert", "tiny-random-mpnet"])
def test_analyse_matches_the_authors_padded_layout(name):
    """Length-sorted batches padded to max+1 give the numbers of one corpus-wide padded matrix (pad id 0 or 1)."""
    encoder = models.load(name, "cpu")
    texts = [f"{s} {w}" for s in SENTENCES for w in ("Yes.", "No, it is not!", "")]
    geo = geometry.analyse(encoder, texts, seeds=[0, 1], n_samples=20, batch_size=5, progress=False)

    token_ids = encode.tokenize(encoder.tokenizer, texts)
    padded = pad_matrix(token_ids, encoder.pad_id)
    mask = (np.arange(padded.shape[1])[None, :] < np.array([len(t) for t in token_ids])[:, None]).astype(int)
    with torch.inference_mode():
        out = encoder.model(
            input_ids=torch.as_tensor(padded), attention_mask=torch.as_tensor(mask), output_hidden_states=True
        )
    hidden = [h.numpy() for h in out.hidden_states]
    samples = [sample_tokens(np.array([len(t) for t in token_ids]), 20, len(hidden), s) for s in (0, 1)]
    ref = loop_metrics(hidden, padded, [len(t) for t in token_ids], samples)
    assert encoder.pad_id in geo.vocab_ids  # the pad quirk is exercised
    _compare(geo, ref, atol=2e-5)
    table = geo.per_layer()
    assert [r["layer"] for r in table] == list(range(encoder.n_layers + 1))
    assert PER_LAYER_KEYS <= table[0].keys()


def test_released_rounding_of_ids():
    geo = geometry.Geometry(
        np.array([3, 4]),
        np.array([5, 5]),
        np.array([2, 2]),
        np.array([[0.12345, 0.98765]]),
        np.zeros((1, 2, 2)),
        np.zeros(1),
        np.ones(1),
        np.zeros((1, 1)),
        [0],
        pad_id=0,
    )
    assert geo.self_sim(decimals=3)[0] == pytest.approx((0.123 + 0.988) / 2)
    assert geo.self_sim()[0] == pytest.approx((0.12345 + 0.98765) / 2)


def test_long_sentences_are_truncated_to_what_the_model_takes():
    encoder = models.load("tiny-random-bert", "cpu")
    assert encoder.max_length == 512
    assert models.load("tiny-random-mpnet", "cpu").max_length == 512  # 514 positions, offset past the pad index
    texts = [" ".join(["word"] * 700), "A short one."] * 3
    geo = geometry.analyse(encoder, texts, seeds=[0], n_samples=4, batch_size=2, progress=False)
    assert geo.n_states == 3 and np.isfinite(geo.intra_sim).all()


# --------------------------------------------------------------------------------------------- review fixes
@pytest.mark.parametrize("pad_id", [0, 102])  # 102: a tokenizer whose pad id is also its end-of-sentence id
def test_a_pad_id_in_the_text_is_one_first_occurrence_not_two(pad_id):
    """The released code takes row.index(pad) in the padded row: a real occurrence, if any, else the first pad."""
    ids = [[101, 7, pad_id, 8, 102], [101, 7, 102], [101, 9, 9, 102], [101, 8, 8, 9, 9, 9, 102]]
    if pad_id == 102:
        ids = [[101, 7, 102, 8, 102], [101, 7, 102], [101, 9, 9, 102], [101, 8, 8, 9, 9, 9, 102]]
    plan = plan_tokens(ids, pad_id, min_count=3)
    padded = pad_matrix(ids, pad_id)
    slot = {w: k for k, w in enumerate(plan.vocab_ids[plan.measured].tolist())}
    occ = [
        (s, int(plan.occ_slot[r]), int(plan.occ_pos[r]))
        for s in range(4)
        for r in range(plan.occ_ptr[s], plan.occ_ptr[s + 1])
    ]
    pads = [(s, p) for s, k, p in occ if k == slot[pad_id]]
    expect = [(s, list(row).index(pad_id)) for s, row in enumerate(padded.tolist()) if pad_id in row]
    assert pads == expect  # one per sentence holding the id, at the released position
    assert plan.contexts[list(plan.vocab_ids).index(pad_id)] == len(expect)


def test_only_ids_that_enter_a_mean_are_accumulated():
    ids = [[101, 5, 5, 5, 5, 5, 102], [101, 6, 102], [101, 6, 102], [101, 6, 102], [101, 6, 7, 102]]
    plan = plan_tokens(ids, 0)  # id 5: counted 5 times, in one sentence only
    assert 5 in plan.vocab_ids and plan.contexts[list(plan.vocab_ids).index(5)] == 1
    acc = Accumulator(plan, [], 2, 4)
    assert acc.unit_sum.shape == (2, int(plan.measured.sum()), 4) and 5 not in plan.vocab_ids[plan.measured]


def test_rogue_readings_on_constructed_tokens():
    """Token a always points along dimension 0, token b along dimension 1 (plus small noise).

    mean_vector: the mean contribution is about (0.5, 0.5, ...): top-1 share ~0.5, top-2 ~1.
    per_token: each token is concentrated in one dimension: top-1 share ~1.
    """
    gen = np.random.default_rng(0)
    d, n = 6, 20
    a, b = np.zeros((n, d)), np.zeros((n, d))
    a[:, 0], b[:, 1] = 5.0, 5.0
    units = [x + 0.01 * gen.normal(size=x.shape) for x in (a, b)]
    unit_sum = np.stack([(u / np.linalg.norm(u, axis=1, keepdims=True)).sum(0) for u in units])[None]
    geo = geometry.Geometry(
        np.array([10, 11]),
        np.array([n, n]),
        np.array([n, n]),
        np.zeros((1, 2)),
        unit_sum,
        np.zeros(1),
        np.ones(1),
        np.zeros((1, 1)),
        [0],
        pad_id=0,
    )
    assert geo.rogue_shares(1, "mean_vector")[0] == pytest.approx(0.5, abs=0.01)
    assert geo.rogue_shares(2, "mean_vector")[0] == pytest.approx(1.0, abs=0.01)
    assert geo.rogue_shares(1, "per_token")[0] == pytest.approx(1.0, abs=0.01)
    # both tokens on the same dimension: the readings agree
    same = np.stack([unit_sum[0, 0], unit_sum[0, 0]])[None]
    geo.unit_sum = same
    assert geo.rogue_shares(1, "mean_vector")[0] == pytest.approx(geo.rogue_shares(1, "per_token")[0], abs=1e-12)
    with pytest.raises(ValueError, match="reading"):
        geo.rogue_shares(1, "median")


def test_analysis_in_the_middle_of_training_restores_train_mode():
    enc = models.load("tiny-random-bert", "cpu")
    enc.model.train()
    geo = geometry.analyse_model(enc.model, enc.tokenizer, SENTENCES * 2, [0], n_samples=10, progress=False)
    assert enc.model.training and geo.n_states == 3
    enc.model.eval()
    again = geometry.analyse_model(enc.model, enc.tokenizer, SENTENCES * 2, [0], n_samples=10, progress=False)
    assert not enc.model.training
    assert np.allclose(geo.intra_sim, again.intra_sim)  # measured with dropout off both times


def test_isoscore_matches_the_authors_package():
    from IsoScore import IsoScore as authors

    from lib.science.isotropy import isoscore

    gen = torch.Generator().manual_seed(5)
    clouds = [
        torch.randn(1500, 12, generator=gen),  # isotropic: close to 1
        torch.randn(400, 24, generator=gen) * torch.linspace(0.05, 3, 24),
        torch.randn(200, 6, generator=gen) @ torch.randn(6, 6, generator=gen),
    ]
    for x in clouds:
        assert isoscore(x) == pytest.approx(float(authors.IsoScore(x.numpy())), abs=1e-5)
    assert isoscore(clouds[0]) > 0.99
    line = torch.randn(300, 1, generator=gen) * torch.ones(1, 8)
    assert isoscore(line + 1e-6 * torch.randn(300, 8, generator=gen)) < 0.01


def test_isoscore_per_layer_uses_each_seeds_tokens():
    enc = models.load("tiny-random-bert", "cpu")
    texts = [f"{s} {w}" for s in SENTENCES for w in ("Yes.", "No, it is not!")]
    geo = geometry.analyse(enc, texts, seeds=[3, 4], n_samples=20, progress=False)
    assert geo.sample_vectors.shape == (2, 3, 20, 32)
    # the stored vectors are the sampled tokens: their mean pairwise cosine is each seed's anisotropy
    for k in range(2):
        for layer in range(3):
            assert mean_pairwise_cosine(torch.as_tensor(geo.sample_vectors[k, layer])) == pytest.approx(
                geo.anisotropy_per_seed[k, layer], abs=1e-6
            )
    assert geo.isoscore_per_seed().shape == (2, 3)
    assert all(0 <= r["isoscore"] <= 1 for r in geo.per_layer())


def test_function_to_content_similarity_on_constructed_states():
    """Sentence: [101, a, the, b, 102]; functional = {101, 102, the}. Per sentence: mean cos of functional tokens
    to the mean vector of the semantic tokens (a, b)."""
    functional = np.zeros(200, dtype=bool)
    functional[[101, 102, 150]] = True
    ids = [[101, 10, 150, 11, 102], [101, 12, 102], [101, 150, 102]]  # sentence 3 has no semantic token
    plan = plan_tokens(ids, 0, min_count=1)
    rng = np.random.default_rng(0)
    h = torch.as_tensor(rng.normal(size=(2, 3, 5, 4)), dtype=torch.float32)
    acc = Accumulator(plan, [], 2, 4, functional=functional)
    lengths = torch.as_tensor(plan.lengths)
    padded = torch.as_tensor(pad_matrix(ids, 0))
    acc.add(np.arange(3), h, lengths, padded)
    geo = acc.finish([])
    for layer in range(2):
        expect_f, expect_s = [], []
        for s, row in enumerate(ids[:2]):
            sem = [j for j, w in enumerate(row) if not functional[w]]
            fun = [j for j, w in enumerate(row) if functional[w]]
            mean = h[layer, s, sem].mean(0)
            cos = lambda j: float(torch.nn.functional.cosine_similarity(h[layer, s, j], mean, dim=0))  # noqa
            expect_f.append(np.mean([cos(j) for j in fun]))
            expect_s.append(np.mean([cos(j) for j in sem]))
        assert geo.func_to_content[layer] == pytest.approx(np.mean(expect_f), abs=1e-6)
        assert geo.sem_to_content[layer] == pytest.approx(np.mean(expect_s), abs=1e-6)


def test_bootstrap_interval_covers_the_mean_and_is_seeded():
    from lib.science.stats import bootstrap_mean

    x = np.random.default_rng(0).normal(1.0, 2.0, size=400)
    a, b = bootstrap_mean(x, seed=3), bootstrap_mean(x, seed=3)
    assert a == b and a["low"] < x.mean() < a["high"]
    assert a["high"] - a["low"] == pytest.approx(2 * 1.96 * 2.0 / np.sqrt(400), rel=0.2)  # about the normal interval


def test_word_probes_find_the_pieces_of_a_word():
    from lib.science import probes

    enc = models.load("tiny-random-bert", "cpu")
    v = probes.word_vector(enc.model, enc.tokenizer, "What is NLP?", "NLP")
    assert v.shape == (32,)
    same = probes.probe(enc.model, enc.tokenizer, probes.Probe("NLP is about", "NLP", "NLP is about", "NLP"))
    assert same == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="does not occur"):
        probes.word_vector(enc.model, enc.tokenizer, "What is it?", "NLP")
